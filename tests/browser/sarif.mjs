// Validates a SARIF document against the official SARIF 2.1.0 JSON schema with Ajv (draft-07),
// formats included (ajv-formats).
// Usage: node tests/browser/sarif.mjs SCHEMA.json DOCUMENT.json
// Run by tests/integration/sarif.rs. Prints the schema errors and exits 1 when there are any.
import { readFileSync } from "node:fs";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const [schemaPath, docPath] = process.argv.slice(2);
const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
const doc = JSON.parse(readFileSync(docPath, "utf8"));

// The official schema's language-tag `pattern` (on `run` and `toolComponent`) has a stray `]`:
// not a valid regular expression in Unicode mode, so Ajv rejects the schema itself. Replace it
// in memory by what it means; sipflow emits no `language` anyway.
const BAD = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
let fixed = 0;
(function fix(v) {
  if (Array.isArray(v)) return v.forEach(fix);
  if (v && typeof v === "object") {
    for (const [k, child] of Object.entries(v)) {
      if (k === "pattern" && child === BAD) {
        v[k] = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$";
        fixed++;
      } else fix(child);
    }
  }
})(schema);
if (fixed !== 2) {
  console.error(`expected the 2 known language patterns in the schema, found ${fixed}`);
  process.exit(2);
}

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv); // uri, uri-reference and date-time are checked too
const validate = ajv.compile(schema);
if (validate(doc)) {
  console.log("valid SARIF 2.1.0");
} else {
  for (const e of validate.errors) console.error(`${e.instancePath || "/"}: ${e.message}`);
  process.exit(1);
}
