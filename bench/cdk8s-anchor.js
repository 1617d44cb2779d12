// The anchor of `npm run bench`: a cdk8s 2 process that writes the same Kubernetes objects as the
// production synth. `node bench/cdk8s-anchor.js <objects.json> <out dir>` creates each object of the
// JSON array as an ApiObject in one Chart of one App and runs `app.synth()` into <out dir> (one
// YAML file, as cdk8s writes it). Plain JavaScript on plain node, as a built cdk8s app runs: the
// anchor pays node's start, loading cdk8s and constructs, building the construct tree and writing
// YAML, and no TypeScript loader.
"use strict";
const { readFileSync } = require("fs");
const { ApiObject, App, Chart } = require("cdk8s");

const [objectsFile, outdir] = process.argv.slice(2);
if (objectsFile === undefined || outdir === undefined) {
    console.error("usage: node bench/cdk8s-anchor.js <objects.json> <out dir>");
    process.exit(64);
}
const objects = JSON.parse(readFileSync(objectsFile, "utf8"));
const app = new App({ outdir });
const chart = new Chart(app, "production");
objects.forEach((object, index) => new ApiObject(chart, `object-${index}`, object));
app.synth();
