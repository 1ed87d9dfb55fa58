// A self-signed certificate for localhost, made with openssl in a scratch directory, and an
// HTTPS GET that trusts it.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { scratch_dir } from "./service_server.mjs";

export function self_signed_cert() {
  const dir = scratch_dir();
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                           "-days", "2", "-subj", "/CN=localhost",
                           "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stdio: "ignore" });
  return { dir, cert, key, ca: readFileSync(cert) };
}

export function https_get(url, ca) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca }, (res) => {
      let body = "";
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
  });
}
