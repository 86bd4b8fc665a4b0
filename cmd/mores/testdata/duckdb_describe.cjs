const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  const out = {};
  for (const f of process.argv.slice(2)) {
    const r = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${f}')`);
    const cols = r.getRowObjectsJson().map(x => [x.column_name, x.column_type]);
    const n = await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${f}')`);
    out[f] = { columns: cols, rows: n.getRowObjectsJson()[0].n };
  }
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e.message); process.exit(1); });
