#!/usr/bin/env bash
# The demo shop cluster behind `make run` / `make start`.
#   demo.sh start      DIR PG_PORT HTTP_PORT   create (first time) and start, print how to use it
#   demo.sh foreground DIR PG_PORT HTTP_PORT   wait until Ctrl-C, then stop the cluster cleanly
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=$1; dir=$2; pg_port=$3; http_port=$4
cluster="$here/cluster.sh"
url="http://127.0.0.1:$http_port"

wait_http() {
  python3 "$here/wait_http.py" "$url/" 30 || { echo "demo: the server did not answer on $url; see $dir/server.log" >&2; return 1; }
}

case "$cmd" in
  start)
    if [ ! -d "$dir/data" ]; then
      "$cluster" init "$dir" "$pg_port" "$http_port" \
        "postgrest.db_name = 'shop'" \
        "postgrest.db_schemas = 'api'" \
        "postgrest.db_anon_role = 'web_anon'" \
        "postgrest.db_authenticator_role = 'authenticator'"
      "$cluster" start "$dir"
      "$cluster" psql "$dir" -q -d postgres -c "CREATE DATABASE shop"
      "$cluster" psql "$dir" -q -d shop -f "$here/../demo/shop.sql"
      "$cluster" psql "$dir" -q -d shop -c "CREATE EXTENSION postgrest_ext"
    elif [ ! -f "$dir/data/postmaster.pid" ]; then
      # a second start may ask for other ports: rewrite them in the cluster's config
      conf="$dir/data/postgresql.conf"
      sed -e "s/^port = .*/port = $pg_port/" -e "s/^postgrest.server_port = .*/postgrest.server_port = $http_port/" "$conf" > "$conf.new"
      cat "$conf.new" > "$conf" && rm -f "$conf.new"
      "$cluster" start "$dir"
    fi
    wait_http
    cat <<EOM
postgrest_ext is serving the demo shop at $url
  curl '$url/products?select=id,name&price=gt.10&order=name'
  curl '$url/orders?status=eq.shipped&order=placed_at.desc'
  curl '$url/product_catalog?category=in.(books,tools)&limit=3'
psql: psql -h $(realpath "$dir") -p $pg_port -U postgres shop   (or: make psql)
EOM
    ;;
  foreground)
    trap '"$cluster" stop "$dir"; echo "stopped"; exit 0' INT TERM
    echo "Ctrl-C stops the server."
    while [ -f "$dir/data/postmaster.pid" ]; do sleep 1; done
    ;;
esac
