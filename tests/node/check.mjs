// Checks one kubectl-netpol output with a reference parser and prints what the parser saw as
// JSON, for tests/formats.rs to assert on.
//
//   node check.mjs mermaid FILE   mermaid.parse(); prints {nodes, subgraphs, edges}
//   node check.mjs sarif FILE     validates against the SARIF 2.1.0 schema; prints {results}
//   node check.mjs xml FILE       parses as XML; prints {root, testcases, failures}
//
// Exits 1 with the parser's message when the file is rejected.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { JSDOM } from 'jsdom';

const require = createRequire(import.meta.url);
const [kind, file] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8');

function fail(message) {
  console.error(`${kind}: ${file}: ${message}`);
  process.exit(1);
}

async function mermaid() {
  // mermaid sanitises labels with DOMPurify, which needs a DOM even just to parse.
  const dom = new JSDOM('<!doctype html><html><body></body></html>');
  globalThis.window = dom.window;
  globalThis.document = dom.window.document;
  const { default: m } = await import('mermaid');
  try {
    await m.parse(text);
  } catch (e) {
    fail(e.message);
  }
  const diagram = await m.mermaidAPI.getDiagramFromText(text);
  const db = diagram.db;
  const vertices = db.getVertices();
  const label = (id) => (vertices.get ? vertices.get(id) : vertices[id])?.text ?? id;
  const ids = vertices.keys ? [...vertices.keys()] : Object.keys(vertices);
  return {
    type: diagram.type,
    nodes: ids.map((id) => ({ id, text: label(id) })),
    subgraphs: db.getSubGraphs().map((s) => ({ title: s.title, nodes: s.nodes.map(label) })),
    edges: db.getEdges().map((e) => ({
      from: label(e.start),
      to: label(e.end),
      text: e.text,
      stroke: e.stroke,
    })),
  };
}

function sarif() {
  const Ajv = require('ajv');
  const schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
  const ajv = new Ajv({ schemaId: 'auto', allErrors: true, unknownFormats: 'ignore' });
  ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-04.json'));
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    fail(`not JSON: ${e.message}`);
  }
  if (!ajv.validate(schema, doc)) {
    fail(ajv.errorsText(ajv.errors, { separator: '\n' }));
  }
  return { version: doc.version, results: doc.runs.map((r) => r.results.length) };
}

function xml() {
  const dom = new JSDOM(text, { contentType: 'text/xml' });
  const d = dom.window.document;
  const err = d.getElementsByTagName('parsererror')[0];
  if (err) fail(err.textContent);
  return {
    root: d.documentElement.tagName,
    testcases: d.getElementsByTagName('testcase').length,
    failures: d.getElementsByTagName('failure').length,
  };
}

const checks = { mermaid, sarif, xml };
if (!checks[kind]) fail(`unknown check; use one of ${Object.keys(checks).join(', ')}`);
try {
  console.log(JSON.stringify(await checks[kind]()));
} catch (e) {
  fail(e.stack || String(e));
}
