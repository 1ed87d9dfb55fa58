// The Node esink, rebuilt as the benchmark baseline: socket.io v4, the seed's environment
// variables, PostgreSQL LISTEN/NOTIFY row triggers (or MySQL trigger table polled 4 times a
// second), routing by TABLE_AUTH_COLUMN_ROUTING, the two events per change, POST /publish and
// GET /ping. Written to be a fair opponent: rooms per user (O(recipients)), one serialization
// per emit, plain `http` instead of Express.
'use strict';

const http = require('http');
const { Server } = require('socket.io');

const env = (name, dflt) => {
  let v = process.env[name];
  if (v === undefined || v === '') return dflt;
  // The seed's docker-compose wraps values in single quotes.
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) v = v.slice(1, -1);
  return v;
};

const PORT = Number(env('PORT', '80'));
const DEFAULT_SOURCE = env('DEFAULT_SOURCE', 'API');
const SECURITY_TOKEN = env('SECURITY_TOKEN', null);
const TABLE_NAMES = env('TABLE_NAMES', '').split(',').map((s) => s.trim()).filter(Boolean);
const AUTH_TABLE = env('AUTH_TABLE', null);
const AUTH_COLUMN = env('AUTH_COLUMN', null);
const ROUTING = JSON.parse(env('TABLE_AUTH_COLUMN_ROUTING', '{}'));
const FILTERS = env('FILTERS', '').split(',').map((s) => s.trim()).filter(Boolean)
  .map((s) => s.split('.'));
const MYSQL_DATABASE = env('MYSQL_DATABASE', null);
const MYSQL_TABLE_TARGET = env('MYSQL_TABLE_TARGET', 'esink_pubsub');
const ident = (s) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new Error(`bad identifier ${s}`);
  return s;
};

let eventId = 0;

function filtered(table, data) {
  for (const [t, c] of FILTERS) if (t === table && data && c in data) delete data[c];
  return data;
}

// ---- database: auth lookups, change feed ---------------------------------------------------
let query;  // (sql with ? placeholders, params) => rows

async function startPostgres(onChange) {
  const { Pool, Client } = require('pg');
  const url = env('POSTGRES_DATABASE_URL');
  const pool = new Pool({ connectionString: url, max: 10 });
  query = async (sql, params) => {
    let i = 0;
    const res = await pool.query(sql.replace(/\?/g, () => `$${++i}`), params);
    return res.rows;
  };
  await pool.query(`CREATE OR REPLACE FUNCTION esink_baseline_notify() RETURNS trigger AS $$
    DECLARE r record;
    BEGIN
      IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
      PERFORM pg_notify('esink_baseline', json_build_object(
        'table', TG_TABLE_NAME, 'type', lower(TG_OP), 'data', row_to_json(r))::text);
      RETURN r;
    END $$ LANGUAGE plpgsql`);
  for (const t of TABLE_NAMES) {
    await pool.query(`DROP TRIGGER IF EXISTS esink_baseline_trigger ON ${ident(t)}`);
    await pool.query(`CREATE TRIGGER esink_baseline_trigger AFTER INSERT OR UPDATE OR DELETE ON ${ident(t)}
      FOR EACH ROW EXECUTE PROCEDURE esink_baseline_notify()`);
  }
  const listener = new Client({ connectionString: url });
  await listener.connect();
  listener.on('notification', (msg) => {
    const n = JSON.parse(msg.payload);
    onChange(n.table, n.type, n.data);
  });
  await listener.query('LISTEN esink_baseline');
}

async function startMysql(onChange) {
  const mysql = require('mysql2/promise');
  const pool = mysql.createPool({
    host: env('MYSQL_HOST', '127.0.0.1'), port: Number(env('MYSQL_PORT', '3306')),
    user: env('MYSQL_USERNAME'), password: env('MYSQL_PASSWORD'), database: MYSQL_DATABASE,
    connectionLimit: 10,
  });
  query = async (sql, params) => (await pool.query(sql, params))[0];
  const target = ident(MYSQL_TABLE_TARGET);
  // As the seed did: drop and recreate the event table on every start.
  await pool.query(`DROP TABLE IF EXISTS ${target}`);
  await pool.query(`CREATE TABLE ${target} (id BIGINT AUTO_INCREMENT PRIMARY KEY,
    table_name VARCHAR(255) NOT NULL, type VARCHAR(16) NOT NULL, data JSON NOT NULL)`);
  for (const t of TABLE_NAMES) {
    const cols = (await pool.query(
      'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position',
      [t]))[0].map((r) => r.c);
    for (const [op, rec] of [['INSERT', 'NEW'], ['UPDATE', 'NEW'], ['DELETE', 'OLD']]) {
      const name = ident(`esink_baseline_${t}_${op.toLowerCase()}`);
      const obj = cols.map((c) => `'${c}', ${rec}.\`${c}\``).join(', ');
      await pool.query(`DROP TRIGGER IF EXISTS ${name}`);
      await pool.query(`CREATE TRIGGER ${name} AFTER ${op} ON \`${ident(t)}\` FOR EACH ROW
        INSERT INTO ${target} (table_name, type, data) VALUES ('${t}', '${op.toLowerCase()}', JSON_OBJECT(${obj}))`);
    }
  }
  let last = 0;
  const poll = async () => {
    try {
      const rows = (await pool.query(`SELECT id, table_name, type, data FROM ${target} WHERE id > ? ORDER BY id`, [last]))[0];
      for (const r of rows) {
        last = r.id;
        onChange(r.table_name, r.type, typeof r.data === 'string' ? JSON.parse(r.data) : r.data);
      }
      if (rows.length) await pool.query(`DELETE FROM ${target} WHERE id <= ?`, [last]);
    } catch (e) {
      console.error('esink-baseline: poll failed:', e.message);
    }
    setTimeout(poll, 250);  // "at a maximum frequency of 4 times per second"
  };
  poll();
}

// ---- socket.io --------------------------------------------------------------------------------
const httpServer = http.createServer();
const io = new Server(httpServer, { transports: ['websocket', 'polling'] });
const room = (userId) => `user:${userId}`;

io.use(async (socket, next) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  try {
    if (token === 'TEST' && env('NODE_ENV', 'development') !== 'production') {
      socket.data.user = { id: -1 };
      return next();
    }
    const rows = AUTH_TABLE && token
      ? await query(`SELECT * FROM ${ident(AUTH_TABLE)} WHERE ${ident(AUTH_COLUMN)} = ? LIMIT 1`, [token])
      : [];
    if (!rows.length) {
      const err = new Error('Unauthorized');
      err.data = { code: 401, message: 'Unauthorized' };
      return next(err);
    }
    socket.data.user = rows[0];
    return next();
  } catch (e) {
    return next(e);
  }
});

io.on('connection', (socket) => {
  const userId = socket.data.user.id;
  socket.join(room(userId));
  socket.emit('connected', { sessionId: socket.id, userId, code: 200, message: 'Connected to esink' });
});

function publish(table, type, data, userId, source, timestamp, version) {
  const payload = {
    id: ++eventId, type, table, data: filtered(table, data), timestamp: timestamp || Date.now(),
    source: source || DEFAULT_SOURCE, version: version || 1, userId,
  };
  const target = userId === '*' ? io : io.to(room(userId));
  target.emit(table, payload);
  target.emit('changes', payload);
}

function onChange(table, type, data) {
  const rule = ROUTING[table];
  if (rule === undefined) return;
  if (rule === '*') return publish(table, type, data, '*', 'database');
  const seen = new Set();
  for (const col of Array.isArray(rule) ? rule : [rule]) {
    const v = data[col];
    if (v === null || v === undefined || seen.has(String(v))) continue;
    seen.add(String(v));
    publish(table, type, data, v, 'database');
  }
}

// ---- HTTP API ---------------------------------------------------------------------------------
function reply(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

httpServer.on('request', (req, res) => {
  if (req.url.startsWith('/socket.io/')) return;  // socket.io's own listener answers
  if (req.method === 'GET' && req.url === '/ping') return reply(res, 200, 'pong');
  if (req.method !== 'POST' || req.url !== '/publish') return reply(res, 404, { message: 'Not found' });
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > 1e6) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    let b;
    try {
      b = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      return reply(res, 400, { message: 'Invalid JSON' });
    }
    if (!SECURITY_TOKEN) return reply(res, 403, { message: 'No SECURITY_TOKEN configured' });
    if (b.securityToken !== SECURITY_TOKEN) return reply(res, 401, { message: 'Invalid security token' });
    for (const k of ['data', 'type', 'userId', 'table']) {
      if (b[k] === undefined || b[k] === null) return reply(res, 400, { message: `Missing ${k}`, key: k });
    }
    if (!['insert', 'update', 'delete'].includes(b.type)) return reply(res, 400, { message: 'Invalid type', key: 'type' });
    try {
      publish(b.table, b.type, b.data, b.userId, b.source, b.timestamp, b.version);
    } catch (e) {
      return reply(res, 500, { message: 'Internal server error' });
    }
    return reply(res, 200, { message: 'Sent' });
  });
});

(async () => {
  if (MYSQL_DATABASE) await startMysql(onChange);
  else await startPostgres(onChange);
  httpServer.listen(PORT, '127.0.0.1', () => {
    console.log(`listening on port ${httpServer.address().port}`);
  });
})().catch((e) => {
  console.error('esink-baseline: startup failed:', e.message);
  process.exit(1);
});

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
