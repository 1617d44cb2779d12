import assert from "node:assert/strict";
import { configNameSources, derivedObjects, parseStackConfig } from "../components/config";
import { kubernetesObjects } from "../cli/render";
import { editConfig, run, stackFile } from "./support/program";

/** Objects whose names are fixed by the program, not derived from config (their namespace is). */
const FIXED_NAMESPACE_CONTENT = new Set(["frontend-ratelimit"]);

describe("derived object names", () => {
    const variants: [string, () => Record<string, string>][] = [
        // dev: gatewayInjection, in-cluster Redis; the production variant: every other kind of object.
        ["dev", () => stackFile("dev").configMap],
        [
            "production with an istioOperator gateway, TLS and envoy local limits",
            () => {
                let configMap = editConfig(stackFile("production").configMap, "gateways", (gateways) => {
                    gateways[0].mode = "istioOperator";
                    gateways[0].istioOperator = { install: "operator" };
                    gateways[0].tls = { issuer: { ca: { secretName: "frontend-private-ca" } } };
                    return gateways;
                });
                configMap = editConfig(configMap, "services", (services) => {
                    services[0].rateLimit.local = { type: "envoy", requestsPerSecond: 10, burst: 5 };
                    return services;
                });
                return configMap;
            },
        ],
    ];
    for (const [what, configMapOf] of variants) {
        it(`predicts every Kubernetes object the program registers: ${what}`, async () => {
            const configMap = configMapOf();
            const environment = configMap["bff-platform:environment"];
            const { config } = parseStackConfig(configMap, environment);
            const predicted = new Set(derivedObjects(configNameSources(config)).map((o) => `${o.kind} ${o.namespace ?? "-"} ${o.name}`));
            const result = await run(configMap, "up", environment);
            const missed = kubernetesObjects(result.resources)
                .filter((o) => !FIXED_NAMESPACE_CONTENT.has(o.metadata.namespace ?? ""))
                .map((o) => `${o.kind} ${o.metadata.namespace ?? "-"} ${o.metadata.name}`)
                .filter((key) => !predicted.has(key));
            assert.deepEqual(missed, []);
        });
    }
});
