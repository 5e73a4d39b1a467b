"""PostgREST's official Python client (PyPI `postgrest`, postgrest-py), unchanged, against the
extension. Run by scripts/clients.sh (in the venv target/clients-venv) on a cluster set up like
scripts/e2e.sh: PGRST_URL is the server, PGRST_JWT_SECRET its HMAC secret. Writes go to
api.client_items, ids 2000-2999.

Prints `test py::<name> ... ok|FAILED` per test and a closing
`test result: ok|FAILED. N passed; M failed` line; exits 1 if any test failed.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import traceback

from postgrest import APIError, SyncPostgrestClient

URL = os.environ.get("PGRST_URL", "http://127.0.0.1:3000")
SECRET = os.environ.get("PGRST_JWT_SECRET", "e2e-jwt-secret-that-is-long-enough-0123")

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def client(token=None, schema="api"):
    # the server exposes only `api`; postgrest-py always sends Accept-/Content-Profile
    c = SyncPostgrestClient(URL, schema=schema, retry_enabled=False)
    if token:
        c.auth(token)
    return c


def jwt(claims):
    def b64(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    message = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}"
    sig = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).digest()
    return f"{message}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"


def user(sub):
    return client(jwt({"role": "shop_user", "sub": sub, "exp": int(time.time()) + 300}))


def api_error(fn):
    """Runs fn, which must raise postgrest's APIError; returns it."""
    try:
        fn()
    except APIError as e:
        return e
    raise AssertionError("expected an APIError, got none")


def eq(got, want):
    assert got == want, f"\n  got:  {got!r}\n  want: {want!r}"


def ids(rows):
    return [r["id"] for r in rows]


db = client()

# ---- reads


@test
def filters_eq_in_neq():
    r = db.from_("products").select("id,name").in_("id", [1, 3, 5]).order("id").execute()
    eq(r.data, [{"id": 1, "name": "Atlas"}, {"id": 3, "name": "Dice"}, {"id": 5, "name": "Novel"}])
    r = db.from_("products").select("name").eq("category_id", 2).neq("id", 2).execute()
    eq(r.data, [{"name": "Dice"}])
    r = db.from_("products").select("id").in_("name", ["Chess set", "Hammer", "x,y"]).order("id").execute()
    eq(ids(r.data), [2, 4])


@test
def comparison_filters():
    r = db.from_("products").select("id").gt("price", 9.99).lte("price", 25).order("id").execute()
    eq(ids(r.data), [1, 4])


@test
def or_filter():
    r = db.from_("products").select("id").or_("price.lt.5,name.eq.Hammer").order("id").execute()
    eq(ids(r.data), [3, 4])
    r = db.from_("products").select("id").or_("and(category_id.eq.1,price.gt.10),id.eq.6").order("id").execute()
    eq(ids(r.data), [1, 6])


@test
def like_ilike():
    eq(ids(db.from_("texts").select("id").ilike("body", "hello%").order("id").execute().data), [1, 2])
    eq(ids(db.from_("texts").select("id").like("body", "Hello%").execute().data), [1])
    r = db.from_("texts").select("id").ilike_any_of("body", "bye*,*world").order("id").execute()
    eq(ids(r.data), [1, 3])


@test
def is_null_and_not():
    eq(ids(db.from_("texts").select("id").is_("note", "null").order("id").execute().data), [1, 3])
    eq(ids(db.from_("texts").select("id").not_.is_("note", "null").order("id").execute().data), [2, 4])


@test
def contains_and_match():
    eq(ids(db.from_("products").select("id").contains("tags", ["steel"]).order("id").execute().data), [4, 6])
    r = db.from_("products").select("name").match({"category_id": 3, "price": 7.25}).execute()
    eq(r.data, [{"name": "Screwdriver"}])


@test
def order_limit_range():
    r = db.from_("products").select("name,price").order("price", desc=True).limit(2).execute()
    eq(r.data, [{"name": "Chess set", "price": 40}, {"name": "Atlas", "price": 25}])
    eq(ids(db.from_("products").select("id").order("id").range(2, 3).execute().data), [3, 4])
    eq(ids(db.from_("products").select("id").order("id").offset(4).limit(5).execute().data), [5, 6])
    r = db.from_("texts").select("id").order("note", nullsfirst=True).order("id").execute()
    eq(ids(r.data), [1, 3, 2, 4])


# ---- embedding


@test
def embed_many_to_one():
    r = db.from_("products").select("name,categories(name)").eq("id", 1).execute()
    eq(r.data, [{"name": "Atlas", "categories": {"name": "books"}}])


@test
def embed_one_to_many():
    r = (
        db.from_("categories")
        .select("name,products(name)")
        .eq("id", 3)
        .order("name", desc=True, foreign_table="products")
        .execute()
    )
    eq(r.data, [{"name": "tools", "products": [{"name": "Screwdriver"}, {"name": "Hammer"}]}])


@test
def embed_inner():
    r = db.from_("orders").select("id,customers!inner(name)").eq("customers.name", "Grace").execute()
    eq(r.data, [{"id": 3, "customers": {"name": "Grace"}}])
    r = db.from_("orders").select("id,customers!inner(name)").eq("customers.name", "Linus").execute()
    eq(r.data, [])


@test
def embed_referenced_limit():
    r = (
        db.from_("categories")
        .select("id,products(id)")
        .order("id")
        .order("id", foreign_table="products")
        .limit(1, foreign_table="products")
        .execute()
    )
    eq(r.data, [{"id": 1, "products": [{"id": 1}]}, {"id": 2, "products": [{"id": 2}]}, {"id": 3, "products": [{"id": 4}]}])


# ---- counts, single


@test
def count_exact_head():
    r = db.from_("products").select("*", count="exact", head=True).gt("price", 10).execute()
    eq(r.count, 3)
    eq(r.data, [])


@test
def count_exact_with_rows():
    r = db.from_("products").select("id", count="exact").order("id").limit(2).execute()
    eq((ids(r.data), r.count), ([1, 2], 6))


@test
def single_and_maybe_single():
    r = db.from_("products").select("name,price").eq("id", 2).single().execute()
    eq(r.data, {"name": "Chess set", "price": 40})
    e = api_error(lambda: db.from_("products").select("id").single().execute())
    eq((e.code, e.message, e.details, e.hint), ("PGRST116", "Cannot coerce the result to a single JSON object", "The result contains 6 rows", None))
    r = db.from_("products").select("name").eq("id", 5).maybe_single().execute()
    eq(r.data, {"name": "Novel"})
    eq(db.from_("products").select("name").eq("id", 999).maybe_single().execute(), None)


# ---- writes


@test
def writes_start_clean():
    db.from_("client_items").delete().gte("id", 2000).lt("id", 3000).execute()
    eq(db.from_("client_items").select("id", count="exact", head=True).gte("id", 2000).lt("id", 3000).execute().count, 0)


@test
def insert_returns_representation():
    r = db.from_("client_items").insert([
        {"id": 2001, "sku": "py-a", "name": "alpha", "qty": 1},
        {"id": 2002, "sku": "py-b", "name": "beta", "qty": 2},
    ]).execute()
    eq(r.data, [{"id": 2001, "sku": "py-a", "name": "alpha", "qty": 1}, {"id": 2002, "sku": "py-b", "name": "beta", "qty": 2}])
    r = db.from_("client_items").insert({"id": 2003, "sku": "py-c", "name": "gamma"}, default_to_null=False).execute()
    eq(r.data, [{"id": 2003, "sku": "py-c", "name": "gamma", "qty": 0}])
    r = db.from_("client_items").insert({"id": 2004, "sku": "py-d", "name": "delta"}, returning="minimal").execute()
    eq(r.data, [])


@test
def insert_select_columns():
    r = db.from_("client_items").insert({"id": 2005, "sku": "py-e", "name": "epsilon", "qty": 5}).select("id,qty").execute()
    eq(r.data, [{"id": 2005, "qty": 5}])


@test
def upsert_on_conflict():
    r = db.from_("client_items").upsert({"id": 2010, "sku": "py-up", "name": "first", "qty": 1}).execute()
    eq(r.data, [{"id": 2010, "sku": "py-up", "name": "first", "qty": 1}])
    r = db.from_("client_items").upsert({"id": 2010, "sku": "py-up", "name": "second", "qty": 2}, on_conflict="sku").execute()
    eq(r.data, [{"id": 2010, "sku": "py-up", "name": "second", "qty": 2}])
    r = db.from_("client_items").upsert(
        {"id": 2011, "sku": "py-up", "name": "ignored", "qty": 0}, on_conflict="sku", ignore_duplicates=True
    ).execute()
    eq(r.data, [])
    r = db.from_("client_items").upsert(
        [{"id": 2010, "sku": "py-up", "name": "third", "qty": 3}, {"id": 2012, "sku": "py-up2", "name": "new", "qty": 1}],
        on_conflict="id",
        count="exact",
    ).execute()
    eq((sorted(ids(r.data)), r.count), ([2010, 2012], 2))
    eq(db.from_("client_items").select("name").eq("sku", "py-up").single().execute().data, {"name": "third"})


@test
def update():
    db.from_("client_items").insert({"id": 2020, "sku": "py-upd", "name": "before", "qty": 1}).execute()
    r = db.from_("client_items").update({"name": "after", "qty": 7}).eq("id", 2020).execute()
    eq(r.data, [{"id": 2020, "sku": "py-upd", "name": "after", "qty": 7}])
    r = db.from_("client_items").update({"qty": 9}).eq("id", 2999).execute()
    eq(r.data, [])


@test
def delete():
    db.from_("client_items").insert([{"id": 2030, "sku": "py-del1", "name": "x", "qty": 0}, {"id": 2031, "sku": "py-del2", "name": "y", "qty": 0}]).execute()
    r = db.from_("client_items").delete().in_("id", [2030, 2031]).execute()
    eq(sorted(ids(r.data)), [2030, 2031])
    eq(db.from_("client_items").select("*", count="exact", head=True).in_("id", [2030, 2031]).execute().count, 0)


# ---- rpc


@test
def rpc_post():
    r = db.rpc("record_visit", {"note": "from postgrest-py"}).execute()
    assert isinstance(r.data, int), r.data
    eq(db.rpc("sum_all", {"nums": [1, 2, 3]}).execute().data, 6)
    eq(db.rpc("order_total", {"order_id": 3}).execute().data, 69.97)


@test
def rpc_get():
    eq(db.rpc("order_total", {"order_id": 1}, get=True).execute().data, 34)
    eq(db.rpc("array_sum", {"nums": [4, 5]}, get=True).execute().data, 9)


@test
def rpc_set_returning_with_filters():
    r = db.rpc("products_under", {"max_price": 10}).select("name").lt("price", 9).order("name").execute()
    eq(r.data, [{"name": "Dice"}, {"name": "Screwdriver"}])
    r = db.rpc("products_under", {"max_price": 10}, get=True).select("id").order("id", desc=True).limit(1).execute()
    eq(r.data, [{"id": 6}])
    r = db.rpc("products_under", {"max_price": 10}, count="exact", head=True).execute()
    eq(r.count, 3)


# ---- auth


@test
def jwt_role_and_rls():
    eq(user("alice").from_("notes").select("id,owner").order("id").execute().data,
       [{"id": 1, "owner": "alice"}, {"id": 3, "owner": "alice"}])
    eq(user("bob").from_("notes").select("body").execute().data, [{"body": "only of bob"}])
    who = user("alice").rpc("whoami", {}, get=True).execute().data
    eq((who["user"], who["claims"]["sub"]), ("shop_user", "alice"))


@test
def anonymous_denied():
    e = api_error(lambda: db.from_("notes").select("id").execute())
    eq((e.code, e.message), ("42501", "permission denied for table notes"))
    e = api_error(lambda: user("alice").from_("notes").insert({"id": 9, "owner": "alice"}).execute())
    eq(e.code, "42501")


@test
def bad_jwt():
    e = api_error(lambda: client(jwt({"role": "shop_user", "exp": 1000})).from_("products").select("id").execute())
    eq((e.code, e.message), ("PGRST303", "JWT expired"))
    e = api_error(lambda: client(jwt({"role": "shop_user"}) + "x").from_("products").select("id").execute())
    eq(e.code, "PGRST301")


# ---- CSV


@test
def csv():
    r = db.from_("products").select("id,name,price").lte("id", 2).order("id").csv().execute()
    eq(r.data, 'id,name,price\n1,Atlas,25.00\n2,"Chess set",40.00')
    r = db.from_("texts").select("id,body,note").in_("id", [3, 4]).order("id").csv().execute()
    eq(r.data, 'id,body,note\n3,Bye,\n4,"quote ""this"", please",y')


# ---- errors


@test
def error_default_schema_public_is_not_exposed():
    e = api_error(lambda: client(schema="public").from_("products").select("id").execute())
    eq((e.code, e.message, e.hint), ("PGRST106", "Invalid schema: public", "Only the following schemas are exposed: api"))


@test
def error_unknown_table_and_column():
    e = api_error(lambda: db.from_("no_such_table").select("*").execute())
    eq((e.code, e.message), ("PGRST205", "Could not find the table 'api.no_such_table' in the schema cache"))
    e = api_error(lambda: db.from_("products").select("nope").execute())
    eq((e.code, e.message, e.details), ("42703", "column products.nope does not exist", None))


@test
def error_constraint_violations():
    e = api_error(lambda: db.from_("client_items").insert({"id": 2040, "sku": "py-bad", "name": "bad", "qty": -1}).execute())
    eq((e.code, e.message, e.details, e.hint), (
        "23514",
        'new row for relation "client_items" violates check constraint "client_items_qty_check"',
        "Failing row contains (2040, py-bad, bad, -1).",
        None,
    ))
    e = api_error(lambda: db.from_("client_items").insert({"id": 2041, "sku": "py-a", "name": "dup", "qty": 0}).execute())
    eq((e.code, e.message, e.details), (
        "23505", 'duplicate key value violates unique constraint "client_items_sku_key"', "Key (sku)=(py-a) already exists."))


@test
def error_relationship_and_parse():
    e = api_error(lambda: db.from_("products").select("id,texts(id)").execute())
    eq((e.code, e.message), ("PGRST200", "Could not find a relationship between 'products' and 'texts' in the schema cache"))
    e = api_error(lambda: db.from_("products").select("id").filter("price", "nope", "1").execute())
    eq(e.code, "PGRST100")
    e = api_error(lambda: db.rpc("no_such_function", {"a": 1}).execute())
    eq((e.code, e.message), ("PGRST202", "Could not find the function api.no_such_function(a) in the schema cache"))



@test
def error_code_of_a_head_request_comes_from_proxy_status():
    # a HEAD response has no body: the client reads the code from `Proxy-Status: PostgREST; error=...`
    e = api_error(lambda: db.from_("no_such_table").select("*", count="exact", head=True).execute())
    eq(e.code, "PGRST205")


@test
def async_client():
    import asyncio

    from postgrest import AsyncPostgrestClient

    async def run():
        async with AsyncPostgrestClient(URL, schema="api", retry_enabled=False) as c:
            r = await c.from_("products").select("name,categories(name)").eq("id", 4).single().execute()
            eq(r.data, {"name": "Hammer", "categories": {"name": "tools"}})
            r = await c.rpc("order_total", {"order_id": 1}, get=True).execute()
            eq(r.data, 34)
            try:
                await c.from_("products").select("nope").execute()
            except APIError as e:
                eq(e.code, "42703")
            else:
                raise AssertionError("expected an APIError")

    asyncio.run(run())

def main():
    passed = failed = 0
    for fn in TESTS:
        try:
            fn()
        except Exception:  # noqa: BLE001 - every failure is reported, then the next test runs
            failed += 1
            print(f"test py::{fn.__name__} ... FAILED")
            print("".join("    " + line for line in traceback.format_exc().splitlines(True)))
        else:
            passed += 1
            print(f"test py::{fn.__name__} ... ok")
        sys.stdout.flush()
    db.aclose()
    print(f"test result: {'ok' if failed == 0 else 'FAILED'}. {passed} passed; {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
