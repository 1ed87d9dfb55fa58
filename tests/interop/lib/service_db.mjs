// SQL for the service tests through the database's own command-line client (psql, mariadb),
// with the connection settings the CTest fixtures write.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";

function read_env_file(variable) {
  const file = process.env[variable];
  if (!file) throw new Error(`${variable} is not set: run through ctest (it names the fixture's settings file)`);
  const out = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function run(cmd, args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${stderr || err.message}\nSQL: ${input.slice(0, 400)}`));
      else resolve(stdout);
    });
    child.stdin.end(input);
  });
}

/// The throwaway PostgreSQL: `url`, and `sql(text)` resolving with stdout.
export function postgres() {
  const env = read_env_file("ESINK_TEST_PG_ENV");
  return {
    kind: "postgres",
    url: env.url,
    env: { POSTGRES_DATABASE_URL: env.url },
    sql: (text) => run("psql", [env.url, "-v", "ON_ERROR_STOP=1", "-q", "-A", "-t", "-f", "-"], text),
    serial: "SERIAL PRIMARY KEY",
    text: "TEXT",
  };
}

/// The throwaway MariaDB: the seed's MYSQL_* variables, and `sql(text)`.
export function mariadb() {
  const env = read_env_file("ESINK_TEST_MARIADB_ENV");
  const args = ["--no-defaults", "-h", env.MYSQL_HOST, "-P", env.MYSQL_PORT, "-u", env.MYSQL_USERNAME,
                `-p${env.MYSQL_PASSWORD}`, "-N", "-B", env.MYSQL_DATABASE];
  return {
    kind: "mariadb",
    env: { MYSQL_HOST: env.MYSQL_HOST, MYSQL_PORT: env.MYSQL_PORT, MYSQL_USERNAME: env.MYSQL_USERNAME,
           MYSQL_PASSWORD: env.MYSQL_PASSWORD, MYSQL_DATABASE: env.MYSQL_DATABASE },
    sql: (text) => run("mariadb", args, text),
    serial: "INT AUTO_INCREMENT PRIMARY KEY",
    text: "VARCHAR(200)",
  };
}
