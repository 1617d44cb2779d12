/**
 * No secret value reaches what synth writes, wherever it sits in a resource's inputs or in the
 * stack outputs: at the top of a map, inside arrays, in maps nested in arrays, or as a whole
 * object. A program built for the test registers such inputs through the same mock runtime and
 * renderers synth uses.
 */
import assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { runProgram, RunResult } from "../cli/mock-runtime";
import { kubernetesObjects, renderManifests, renderResourcesJson } from "../cli/render";

/** Every plain-text value the program below marks secret; none may appear in any output. */
const PLAIN = [
    "s3cr3t-top",
    "s3cr3t-in-array",
    "s3cr3t-in-map-in-array",
    "s3cr3t-deep",
    "s3cr3t-whole",
    "s3cr3t-env",
    "s3cr3t-data",
    "s3cr3t-output",
];

/** A provider resource of a made-up type: its inputs go to resources.json as they are. */
class Thing extends pulumi.CustomResource {
    constructor(name: string, props: pulumi.Inputs) {
        super("test:index:Thing", name, props);
    }
}

function program(): Promise<Record<string, unknown>> {
    new Thing("thing", {
        top: pulumi.secret("s3cr3t-top"),
        list: ["plain", pulumi.secret("s3cr3t-in-array")],
        listOfMaps: [{ name: "a", token: pulumi.secret("s3cr3t-in-map-in-array") }],
        nested: { level1: { level2: [{ level3: pulumi.secret("s3cr3t-deep") }] } },
        whole: pulumi.secret({ user: "app", password: "s3cr3t-whole" }),
    });
    new k8s.apps.v1.Deployment("app", {
        metadata: { name: "app", namespace: "frontend" },
        spec: {
            selector: { matchLabels: { app: "app" } },
            template: {
                metadata: { labels: { app: "app" } },
                spec: { containers: [{ name: "app", image: "app:1", env: [{ name: "TOKEN", value: pulumi.secret("s3cr3t-env") }] }] },
            },
        },
    });
    new k8s.core.v1.Secret("credentials", {
        metadata: { name: "credentials", namespace: "frontend" },
        stringData: { password: "s3cr3t-data" },
    });
    return Promise.resolve({
        tokens: ["plain", pulumi.secret("s3cr3t-output")],
        nested: { list: [{ token: pulumi.secret("s3cr3t-output") }] },
    });
}

function leaked(text: string): string[] {
    return PLAIN.filter((secret) => text.includes(secret));
}

describe("secret masking at any depth", () => {
    let result: RunResult;
    before(async () => {
        result = await runProgram(program, { project: "bff-platform", stack: "masking", configMap: {} });
    });

    it("writes every secret input of resources.json as [secret]: top level, in arrays, in maps in arrays, nested, whole objects", () => {
        const thing = result.resources.filter((r) => r.type === "test:index:Thing");
        assert.equal(thing.length, 1);
        assert.deepEqual(thing[0].inputs, {
            top: "[secret]",
            list: ["plain", "[secret]"],
            listOfMaps: [{ name: "a", token: "[secret]" }],
            nested: { level1: { level2: [{ level3: "[secret]" }] } },
            whole: "[secret]",
        });
        const json = renderResourcesJson(result.resources);
        assert.deepEqual(leaked(json), []);
        assert.ok(json.includes('"[secret]"'));
    });

    it("masks a secret in a container's env list and a Secret's data in the manifests, keeping their shape", () => {
        const objects = kubernetesObjects(result.resources);
        assert.deepEqual(objects.map((o) => `${o.kind} ${o.metadata.name}`).sort(), ["Deployment app", "Secret credentials"]);
        const deployment = objects.find((o) => o.kind === "Deployment") as Record<string, any>;
        assert.deepEqual(deployment.spec.template.spec.containers[0].env, [{ name: "TOKEN", value: "[secret]" }]);
        const secret = objects.find((o) => o.kind === "Secret") as Record<string, any>;
        assert.deepEqual(secret.stringData, { "[secret]": "[secret]" });
        const manifests = [...renderManifests(objects).values()].join("\n");
        assert.deepEqual(leaked(manifests), []);
    });

    it("masks secret stack outputs inside arrays and nested maps", () => {
        assert.deepEqual(result.outputs, { tokens: ["plain", "[secret]"], nested: { list: [{ token: "[secret]" }] } });
        assert.deepEqual(leaked(JSON.stringify(result.outputs)), []);
    });
});
