// PostgREST's official JavaScript client, @supabase/postgrest-js, unchanged, against the
// extension. Run by scripts/clients.sh on a cluster set up like scripts/e2e.sh (demo shop +
// pgrx-tests/fixtures.sql): PGRST_URL is the server, PGRST_JWT_SECRET its HMAC secret.
// Writes go to api.client_items, ids 1000-1999.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { PostgrestClient, PostgrestError } from '@supabase/postgrest-js';

const URL_ = process.env.PGRST_URL ?? 'http://127.0.0.1:3000';
const SECRET = process.env.PGRST_JWT_SECRET ?? 'e2e-jwt-secret-that-is-long-enough-0123';

// no retries: a transient 503 must show up as a failure here, not be hidden
const db = new PostgrestClient(URL_, { retry: false });

function jwt(claims) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const message = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${message}.${createHmac('sha256', SECRET).update(message).digest('base64url')}`;
}

function asUser(sub) {
  const token = jwt({ role: 'shop_user', sub, exp: Math.floor(Date.now() / 1000) + 300 });
  return new PostgrestClient(URL_, { headers: { Authorization: `Bearer ${token}` }, retry: false });
}

/** The response must be a success; returns it. */
function ok(res) {
  assert.equal(res.error, null, `unexpected error: ${JSON.stringify(res.error)}`);
  return res;
}

const ids = (rows) => rows.map((r) => r.id);

before(async () => {
  ok(await db.from('client_items').delete().gte('id', 1000).lt('id', 2000));
});

// ---- reads

test('eq_and_in_filters', async () => {
  const { data, status } = ok(await db.from('products').select('id,name').in('id', [1, 3, 5]).order('id'));
  assert.equal(status, 200);
  assert.deepEqual(data, [{ id: 1, name: 'Atlas' }, { id: 3, name: 'Dice' }, { id: 5, name: 'Novel' }]);
  const one = ok(await db.from('products').select('name').eq('category_id', 2).neq('id', 2));
  assert.deepEqual(one.data, [{ name: 'Dice' }]);
});

test('in_filter_with_strings_needing_quotes', async () => {
  const { data } = ok(await db.from('products').select('id').in('name', ['Chess set', 'Hammer', 'x,y']).order('id'));
  assert.deepEqual(ids(data), [2, 4]);
});

test('comparison_filters', async () => {
  const { data } = ok(await db.from('products').select('id').gt('price', 9.99).lte('price', 25).order('id'));
  assert.deepEqual(ids(data), [1, 4]);
});

test('or_filter', async () => {
  const { data } = ok(await db.from('products').select('id').or('price.lt.5,name.eq.Hammer').order('id'));
  assert.deepEqual(ids(data), [3, 4]);
  const nested = ok(await db.from('products').select('id').or('and(category_id.eq.1,price.gt.10),id.eq.6').order('id'));
  assert.deepEqual(ids(nested.data), [1, 6]);
});

test('like_and_ilike', async () => {
  const ci = ok(await db.from('texts').select('id').ilike('body', 'hello%').order('id'));
  assert.deepEqual(ids(ci.data), [1, 2]);
  const cs = ok(await db.from('texts').select('id').like('body', 'Hello%'));
  assert.deepEqual(ids(cs.data), [1]);
});

test('is_null_and_not', async () => {
  const nulls = ok(await db.from('texts').select('id').is('note', null).order('id'));
  assert.deepEqual(ids(nulls.data), [1, 3]);
  const notNull = ok(await db.from('texts').select('id').not('note', 'is', null).order('id'));
  assert.deepEqual(ids(notNull.data), [2, 4]);
});

test('array_contains_and_match', async () => {
  const { data } = ok(await db.from('products').select('id').contains('tags', ['steel']).order('id'));
  assert.deepEqual(ids(data), [4, 6]);
  const m = ok(await db.from('products').select('name').match({ category_id: 3, price: 7.25 }));
  assert.deepEqual(m.data, [{ name: 'Screwdriver' }]);
});

test('order_limit_and_range', async () => {
  const top = ok(await db.from('products').select('name,price').order('price', { ascending: false }).limit(2));
  assert.deepEqual(top.data, [{ name: 'Chess set', price: 40 }, { name: 'Atlas', price: 25 }]);
  const page = ok(await db.from('products').select('id').order('id').range(2, 3));
  assert.deepEqual(ids(page.data), [3, 4]);
  const multi = ok(await db.from('products').select('id').order('category_id', { ascending: false }).order('price').limit(3));
  assert.deepEqual(ids(multi.data), [6, 4, 3]);
  const nulls = ok(await db.from('texts').select('id').order('note', { ascending: true, nullsFirst: true }).order('id'));
  assert.deepEqual(ids(nulls.data), [1, 3, 2, 4]);
});

test('json_path_and_alias', async () => {
  const { data } = ok(await db.from('products').select('title:name,pages:details->pages').eq('id', 1));
  assert.deepEqual(data, [{ title: 'Atlas', pages: 320 }]);
  const text = ok(await db.from('products').select('id').eq('details->>pages', '210'));
  assert.deepEqual(ids(text.data), [5]);
});

test('view', async () => {
  const { data } = ok(await db.from('product_catalog').select('name,category').eq('category', 'tools').order('name'));
  assert.deepEqual(data, [{ name: 'Hammer', category: 'tools' }, { name: 'Screwdriver', category: 'tools' }]);
});

test('more_operators', async () => {
  const fts = ok(await db.from('texts').select('id').textSearch('body', 'hello', { type: 'plain', config: 'english' }).order('id'));
  assert.deepEqual(ids(fts.data), [1, 2]);
  const re = ok(await db.from('texts').select('id').regexMatch('body', '^[A-Z]').order('id'));
  assert.deepEqual(ids(re.data), [1, 3]);
  const notIn = ok(await db.from('products').select('id').notIn('id', [1, 2, 3, 4]).order('id'));
  assert.deepEqual(ids(notIn.data), [5, 6]);
  const distinct = ok(await db.from('texts').select('id').isDistinct('note', 'x').order('id'));
  assert.deepEqual(ids(distinct.data), [1, 3, 4]);
});

test('strip_nulls', async () => {
  const arr = ok(await db.from('texts').select('id,note').in('id', [1, 2]).order('id').stripNulls());
  assert.deepEqual(arr.data, [{ id: 1 }, { id: 2, note: 'x' }]);
  const one = ok(await db.from('texts').select('id,note').eq('id', 3).single().stripNulls());
  assert.deepEqual(one.data, { id: 3 });
});

// ---- embedding

test('embed_many_to_one', async () => {
  const { data } = ok(await db.from('products').select('name,categories(name)').eq('id', 1));
  assert.deepEqual(data, [{ name: 'Atlas', categories: { name: 'books' } }]);
});

test('embed_one_to_many_with_referenced_order', async () => {
  const { data } = ok(
    await db
      .from('categories')
      .select('name,products(name)')
      .eq('id', 3)
      .order('name', { referencedTable: 'products', ascending: false }),
  );
  assert.deepEqual(data, [{ name: 'tools', products: [{ name: 'Screwdriver' }, { name: 'Hammer' }] }]);
});

test('embed_many_to_many_through_join_table', async () => {
  const { data } = ok(await db.from('orders').select('id,products(name)').eq('id', 3).order('name', { referencedTable: 'products' }));
  assert.deepEqual(data, [{ id: 3, products: [{ name: 'Chess set' }, { name: 'Novel' }] }]);
});

test('embed_inner_join_filters_parents', async () => {
  // anonymous visitors see shipped orders only (RLS): 1 (Ada) and 3 (Grace)
  const all = ok(await db.from('orders').select('id,customers(name)').order('id'));
  assert.deepEqual(all.data, [{ id: 1, customers: { name: 'Ada' } }, { id: 3, customers: { name: 'Grace' } }]);
  const inner = ok(await db.from('orders').select('id,customers!inner(name)').eq('customers.name', 'Grace'));
  assert.deepEqual(inner.data, [{ id: 3, customers: { name: 'Grace' } }]);
  const hinted = ok(await db.from('order_items').select('quantity,products!inner(name)').eq('products.name', 'Dice'));
  assert.deepEqual(hinted.data, [{ quantity: 2, products: { name: 'Dice' } }]);
});

test('embed_with_filter_and_limit_on_referenced_table', async () => {
  const { data } = ok(
    await db
      .from('categories')
      .select('id,products(id)')
      .order('id')
      .gt('products.price', 10)
      .order('id', { referencedTable: 'products' })
      .limit(1, { referencedTable: 'products' }),
  );
  assert.deepEqual(data, [
    { id: 1, products: [{ id: 1 }] },
    { id: 2, products: [{ id: 2 }] },
    { id: 3, products: [{ id: 4 }] },
  ]);
});

// ---- counts

test('count_exact_head', async () => {
  const res = ok(await db.from('products').select('*', { count: 'exact', head: true }).gt('price', 10));
  assert.equal(res.status, 200);
  assert.equal(res.count, 3);
  assert.equal(res.data, null);
});

test('count_exact_with_range', async () => {
  const res = ok(await db.from('products').select('id', { count: 'exact' }).order('id').range(0, 1));
  assert.deepEqual(ids(res.data), [1, 2]);
  assert.equal(res.count, 6);
  assert.equal(res.status, 206);
});

// ---- single / maybeSingle

test('single', async () => {
  const { data, status } = ok(await db.from('products').select('name,price').eq('id', 2).single());
  assert.equal(status, 200);
  assert.deepEqual(data, { name: 'Chess set', price: 40 });
});

test('single_with_many_rows_is_pgrst116', async () => {
  const res = await db.from('products').select('id').single();
  assert.equal(res.status, 406);
  assert.equal(res.data, null);
  assert.equal(res.error.code, 'PGRST116');
  assert.equal(res.error.message, 'Cannot coerce the result to a single JSON object');
  assert.equal(res.error.details, 'The result contains 6 rows');
  assert.equal(res.error.hint, null);
});

test('single_with_no_rows_is_pgrst116', async () => {
  const res = await db.from('products').select('id').eq('id', 999).single();
  assert.equal(res.status, 406);
  assert.equal(res.error.code, 'PGRST116');
  assert.equal(res.error.details, 'The result contains 0 rows');
});

test('maybe_single', async () => {
  const one = ok(await db.from('products').select('name').eq('id', 5).maybeSingle());
  assert.deepEqual(one.data, { name: 'Novel' });
  const none = ok(await db.from('products').select('name').eq('id', 999).maybeSingle());
  assert.equal(none.data, null);
  const many = await db.from('products').select('name').maybeSingle();
  assert.equal(many.error.code, 'PGRST116');
});

// ---- writes

test('insert_with_select_returns_representation', async () => {
  const res = ok(
    await db
      .from('client_items')
      .insert([
        { id: 1001, sku: 'js-a', name: 'alpha', qty: 1 },
        { id: 1002, sku: 'js-b', name: 'beta', qty: 2 },
      ])
      .select(),
  );
  assert.equal(res.status, 201);
  assert.deepEqual(res.data, [
    { id: 1001, sku: 'js-a', name: 'alpha', qty: 1 },
    { id: 1002, sku: 'js-b', name: 'beta', qty: 2 },
  ]);
  // the client sends ?columns=... for arrays: a key missing from a row is NULL there
  const missing = await db.from('client_items').insert([{ id: 1007, sku: 'js-g', name: 'eta' }, { id: 1008, sku: 'js-h', name: 'theta', qty: 1 }]);
  assert.equal(missing.error.code, '23502');
});

test('insert_default_to_null_false_uses_defaults', async () => {
  const res = ok(
    await db
      .from('client_items')
      .insert([{ id: 1003, sku: 'js-c', name: 'gamma' }, { id: 1004, sku: 'js-d', name: 'delta', qty: 4 }], { defaultToNull: false })
      .select('id,qty'),
  );
  assert.deepEqual(res.data, [{ id: 1003, qty: 0 }, { id: 1004, qty: 4 }]);
});

test('insert_without_select_is_minimal', async () => {
  const res = ok(await db.from('client_items').insert({ id: 1005, sku: 'js-e', name: 'epsilon' }));
  assert.equal(res.status, 201);
  assert.equal(res.data, null);
  const single = ok(await db.from('client_items').insert({ id: 1006, sku: 'js-f', name: 'zeta' }).select('id,name').single());
  assert.deepEqual(single.data, { id: 1006, name: 'zeta' });
});

test('upsert_on_primary_key_and_on_conflict_column', async () => {
  const byKey = ok(
    await db.from('client_items').upsert({ id: 1010, sku: 'js-up', name: 'first', qty: 1 }).select(),
  );
  assert.deepEqual(byKey.data, [{ id: 1010, sku: 'js-up', name: 'first', qty: 1 }]);
  const again = ok(
    await db.from('client_items').upsert({ id: 1010, sku: 'js-up', name: 'second', qty: 2 }).select('name,qty'),
  );
  assert.deepEqual(again.data, [{ name: 'second', qty: 2 }]);
  const bySku = ok(
    await db
      .from('client_items')
      .upsert({ id: 1010, sku: 'js-up', name: 'third', qty: 3 }, { onConflict: 'sku' })
      .select('id,name,qty'),
  );
  assert.deepEqual(bySku.data, [{ id: 1010, name: 'third', qty: 3 }]);
  const ignored = ok(
    await db
      .from('client_items')
      .upsert({ id: 1011, sku: 'js-up', name: 'ignored' }, { onConflict: 'sku', ignoreDuplicates: true })
      .select(),
  );
  assert.deepEqual(ignored.data, []);
  const row = ok(await db.from('client_items').select('name').eq('sku', 'js-up').single());
  assert.equal(row.data.name, 'third');
});

test('upsert_bulk_with_count', async () => {
  const res = ok(
    await db
      .from('client_items')
      .upsert(
        [
          { id: 1020, sku: 'js-bulk-1', name: 'one', qty: 1 },
          { id: 1021, sku: 'js-bulk-2', name: 'two', qty: 2 },
        ],
        { onConflict: 'id', count: 'exact' },
      )
      .select('id'),
  );
  assert.deepEqual(ids(res.data), [1020, 1021]);
  assert.equal(res.count, 2);
});

test('update', async () => {
  ok(await db.from('client_items').insert({ id: 1030, sku: 'js-upd', name: 'before', qty: 1 }));
  const res = ok(await db.from('client_items').update({ name: 'after', qty: 7 }).eq('id', 1030).select());
  assert.equal(res.status, 200);
  assert.deepEqual(res.data, [{ id: 1030, sku: 'js-upd', name: 'after', qty: 7 }]);
  const minimal = ok(await db.from('client_items').update({ qty: 8 }).eq('id', 1030));
  assert.equal(minimal.status, 204);
  const none = ok(await db.from('client_items').update({ qty: 9 }).eq('id', 1999).select());
  assert.deepEqual(none.data, []);
});

test('delete', async () => {
  ok(await db.from('client_items').insert([{ id: 1040, sku: 'js-del-1', name: 'x' }, { id: 1041, sku: 'js-del-2', name: 'y' }]));
  const res = ok(await db.from('client_items').delete().in('id', [1040, 1041]).select('id').order('id'));
  assert.deepEqual(ids(res.data), [1040, 1041]);
  const gone = ok(await db.from('client_items').select('*', { count: 'exact', head: true }).in('id', [1040, 1041]));
  assert.equal(gone.count, 0);
  const counted = ok(await db.from('client_items').delete({ count: 'exact' }).eq('id', 1040));
  assert.equal(counted.count, 0);
  assert.equal(counted.status, 204);
});

test('max_affected', async () => {
  ok(await db.from('client_items').insert([{ id: 1070, sku: 'js-max-1', name: 'm', qty: 1 }, { id: 1071, sku: 'js-max-2', name: 'm', qty: 1 }]));
  const one = ok(await db.from('client_items').update({ qty: 2 }).eq('id', 1070).maxAffected(1).select('id,qty'));
  assert.deepEqual(one.data, [{ id: 1070, qty: 2 }]);
  const res = await db.from('client_items').update({ qty: 3 }).eq('name', 'm').maxAffected(1).select('id');
  assert.equal(res.status, 400);
  assert.equal(res.error.code, 'PGRST124');
  assert.equal(res.error.message, 'Query result exceeds max-affected preference constraint');
  assert.equal(res.error.details, 'The query affects 2 rows');
  const unchanged = ok(await db.from('client_items').select('qty').eq('name', 'm').order('id'));
  assert.deepEqual(unchanged.data, [{ qty: 2 }, { qty: 1 }]);
  const del = await db.from('client_items').delete().eq('name', 'm').maxAffected(1);
  assert.equal(del.error?.code, 'PGRST124');
});

// ---- rpc

test('rpc_post', async () => {
  const res = ok(await db.rpc('record_visit', { note: 'from postgrest-js' }));
  assert.equal(res.status, 200);
  assert.equal(typeof res.data, 'number');
  const sum = ok(await db.rpc('sum_all', { nums: [1, 2, 3] }));
  assert.equal(sum.data, 6);
  const array = ok(await db.rpc('array_sum', { nums: [1, 2] }));
  assert.equal(array.data, 3);
  const none = ok(await db.rpc('noop'));
  assert.equal(none.status, 204);
  assert.equal(none.data, null);
});

test('rpc_get', async () => {
  const res = ok(await db.rpc('order_total', { order_id: 1 }, { get: true }));
  assert.equal(res.status, 200);
  assert.equal(res.data, 34);
  // arrays go in the query string as {4,5}
  const array = ok(await db.rpc('array_sum', { nums: [4, 5] }, { get: true }));
  assert.equal(array.data, 9);
  const variadic = ok(await db.rpc('sum_all', { nums: 7 }, { get: true }));
  assert.equal(variadic.data, 7);
});

test('rpc_set_returning_with_filters', async () => {
  const post = ok(await db.rpc('products_under', { max_price: 10 }).select('name').lt('price', 9).order('name'));
  assert.deepEqual(post.data, [{ name: 'Dice' }, { name: 'Screwdriver' }]);
  const get = ok(await db.rpc('products_under', { max_price: 10 }, { get: true }).select('id').order('id', { ascending: false }).limit(1));
  assert.deepEqual(get.data, [{ id: 6 }]);
  const head = ok(await db.rpc('products_under', { max_price: 10 }, { head: true, count: 'exact' }));
  assert.equal(head.count, 3);
  const single = ok(await db.rpc('products_under', { max_price: 5 }).select('name').single());
  assert.deepEqual(single.data, { name: 'Dice' });
});

// ---- auth

test('jwt_switches_role_and_rls_applies', async () => {
  const alice = ok(await asUser('alice').from('notes').select('id,owner').order('id'));
  assert.deepEqual(alice.data, [{ id: 1, owner: 'alice' }, { id: 3, owner: 'alice' }]);
  const bob = ok(await asUser('bob').from('notes').select('body'));
  assert.deepEqual(bob.data, [{ body: 'only of bob' }]);
  const who = ok(await asUser('alice').rpc('whoami', {}, { get: true }));
  assert.equal(who.data.user, 'shop_user');
  assert.equal(who.data.claims.sub, 'alice');
});

test('anonymous_is_denied_with_401', async () => {
  const res = await db.from('notes').select('id');
  assert.equal(res.status, 401);
  assert.equal(res.error.code, '42501');
  assert.equal(res.error.message, 'permission denied for table notes');
  const write = await asUser('alice').from('notes').insert({ id: 9, owner: 'alice' });
  assert.equal(write.status, 403);
  assert.equal(write.error.code, '42501');
});

test('bad_jwt_is_pgrst301', async () => {
  const forged = new PostgrestClient(URL_, { headers: { Authorization: `Bearer ${jwt({ role: 'shop_user' })}x` }, retry: false });
  const res = await forged.from('products').select('id');
  assert.equal(res.status, 401);
  assert.equal(res.error.code, 'PGRST301');
  const expired = new PostgrestClient(URL_, {
    headers: { Authorization: `Bearer ${jwt({ role: 'shop_user', exp: 1000 })}` },
    retry: false,
  });
  const exp = await expired.from('products').select('id');
  assert.equal(exp.status, 401);
  assert.equal(exp.error.code, 'PGRST303');
  assert.equal(exp.error.message, 'JWT expired');
});

// ---- CSV

test('csv', async () => {
  const res = ok(await db.from('products').select('id,name,price').lte('id', 2).order('id').csv());
  assert.equal(res.data, 'id,name,price\n1,Atlas,25.00\n2,"Chess set",40.00');
  const quoted = ok(await db.from('texts').select('id,body,note').in('id', [3, 4]).order('id').csv());
  assert.equal(quoted.data, 'id,body,note\n3,Bye,\n4,"quote ""this"", please",y');
});

// ---- schemas

test('schema_profile_headers', async () => {
  const api = ok(await db.schema('api').from('categories').select('name').eq('id', 1));
  assert.deepEqual(api.data, [{ name: 'books' }]);
  const written = ok(await db.schema('api').from('client_items').insert({ id: 1050, sku: 'js-schema', name: 's' }).select('id'));
  assert.deepEqual(written.data, [{ id: 1050 }]);
  const res = await db.schema('public').from('categories').select('name');
  assert.equal(res.status, 406);
  assert.equal(res.error.code, 'PGRST106');
  assert.equal(res.error.message, 'Invalid schema: public');
  assert.equal(res.error.hint, 'Only the following schemas are exposed: api');
});

// ---- errors

test('error_unknown_table', async () => {
  const res = await db.from('no_such_table').select();
  assert.equal(res.status, 404);
  assert.equal(res.error.code, 'PGRST205');
  assert.equal(res.error.message, "Could not find the table 'api.no_such_table' in the schema cache");
  assert.equal(res.error.details, null);
});

test('error_unknown_column', async () => {
  const res = await db.from('products').select('nope');
  assert.equal(res.status, 400);
  assert.equal(res.error.code, '42703');
  assert.equal(res.error.message, 'column products.nope does not exist');
  assert.equal(res.error.details, null);
});

test('error_no_relationship', async () => {
  const res = await db.from('products').select('id,texts(id)');
  assert.equal(res.status, 400);
  assert.equal(res.error.code, 'PGRST200');
  assert.equal(res.error.message, "Could not find a relationship between 'products' and 'texts' in the schema cache");
  assert.equal(
    res.error.details,
    "Searched for a foreign key relationship between 'products' and 'texts' in the schema 'api', but no matches were found.",
  );
});

test('error_check_and_unique_violations', async () => {
  const check = await db.from('client_items').insert({ id: 1060, sku: 'js-bad', name: 'bad', qty: -1 });
  assert.equal(check.status, 400);
  assert.equal(check.error.code, '23514');
  assert.equal(check.error.message, 'new row for relation "client_items" violates check constraint "client_items_qty_check"');
  assert.equal(check.error.details, 'Failing row contains (1060, js-bad, bad, -1).');
  assert.equal(check.error.hint, null);
  ok(await db.from('client_items').insert({ id: 1061, sku: 'js-dup', name: 'one' }));
  const dup = await db.from('client_items').insert({ id: 1062, sku: 'js-dup', name: 'two' });
  assert.equal(dup.status, 409);
  assert.equal(dup.error.code, '23505');
  assert.equal(dup.error.message, 'duplicate key value violates unique constraint "client_items_sku_key"');
  assert.equal(dup.error.details, 'Key (sku)=(js-dup) already exists.');
});

test('error_bad_filter_is_pgrst100', async () => {
  const res = await db.from('products').select('id').filter('price', 'nope', '1');
  assert.equal(res.status, 400);
  assert.equal(res.error.code, 'PGRST100');
  assert.equal(typeof res.error.message, 'string');
  assert.ok(res.error.message.startsWith('"failed to parse filter'), res.error.message);
});

test('error_invalid_input_and_rpc_not_found', async () => {
  const cast = await db.from('products').select('id').eq('id', 'abc');
  assert.equal(cast.status, 400);
  assert.equal(cast.error.code, '22P02');
  assert.equal(cast.error.message, 'invalid input syntax for type integer: "abc"');
  const rpc = await db.rpc('no_such_function', { a: 1 });
  assert.equal(rpc.status, 404);
  assert.equal(rpc.error.code, 'PGRST202');
  assert.equal(rpc.error.message, 'Could not find the function api.no_such_function(a) in the schema cache');
});

test('throw_on_error_throws_postgrest_error', async () => {
  await assert.rejects(
    async () => db.from('products').select('nope').throwOnError(),
    (err) => {
      assert.ok(err instanceof PostgrestError, `not a PostgrestError: ${err}`);
      assert.equal(err.code, '42703');
      assert.equal(err.message, 'column products.nope does not exist');
      return true;
    },
  );
});
