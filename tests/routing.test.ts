import assert from "node:assert/strict";
import { parseStackConfig } from "../components/config";
import { orderPrefixes, renderHostRoutes } from "../components/routing";
import { editConfig, stackFile } from "./support/program";
import { validateKubeObject } from "./support/schemas";

const production = () => parseStackConfig(stackFile("production").configMap, "production").config;

describe("host routes (root VirtualService per host)", () => {
    it("creates one VirtualService per host, bound to the host's Gateway in the gateway namespace", () => {
        const routes = renderHostRoutes(production());
        assert.deepEqual(
            routes.map((r) => [r.metadata.name, (r.spec as any).hosts, (r.spec as any).gateways]),
            [
                ["pc-example-com", ["pc.example.com"], ["frontend-gateway/pc-example-com"]],
                ["sp-example-com", ["sp.example.com"], ["frontend-gateway/sp-example-com"]],
            ],
        );
    });

    it("matches more specific prefixes first, whatever the order of services in the config", () => {
        const prefixes = (config: ReturnType<typeof production>) =>
            (renderHostRoutes(config)[0].spec as any).http.map((r: any) => r.match[0].uri.prefix as string);
        const pc = prefixes(production());
        assert.equal(pc.at(-1), "/", "the catch-all of pc-web comes last");
        assert.ok(pc.indexOf("/watch") < pc.indexOf("/"));
        for (let i = 1; i < pc.length; i++) {
            assert.ok(pc[i - 1].length >= pc[i].length, `${pc[i - 1]} before ${pc[i]}`);
        }
        const reversed = parseStackConfig(
            editConfig(stackFile("production").configMap, "services", (services) => [...services].reverse()),
            "production",
        ).config;
        assert.deepEqual(prefixes(reversed), pc);
    });

    it("delegates each prefix to the owning service's VirtualService", () => {
        const pc = (renderHostRoutes(production())[0].spec as any).http;
        const watch = pc.find((r: any) => r.match[0].uri.prefix === "/watch");
        assert.deepEqual(watch.delegate, { name: "pc-watch", namespace: "frontend" });
        assert.equal(watch.route, undefined);
        const top = pc.at(-1);
        assert.deepEqual(top.delegate, { name: "pc-web", namespace: "frontend" });
    });

    it("orders equal-length prefixes by name, and longer ones first", () => {
        assert.deepEqual(
            orderPrefixes([
                { service: "a", pathPrefix: "/" },
                { service: "b", pathPrefix: "/b" },
                { service: "c", pathPrefix: "/a" },
                { service: "d", pathPrefix: "/a/b" },
            ]).map((o) => o.pathPrefix),
            ["/a/b", "/a", "/b", "/"],
        );
    });

    it("names routes uniquely when a service owns several prefixes on one host", () => {
        const config = parseStackConfig(
            editConfig(stackFile("production").configMap, "services", (services) => {
                services[0].routes.push({ host: "pc", pathPrefix: "/top" });
                return services;
            }),
            "production",
        ).config;
        const names = (renderHostRoutes(config)[0].spec as any).http.map((r: any) => r.name);
        assert.equal(new Set(names).size, names.length);
        assert.ok(names.includes("pc-web") && names.includes("pc-web-2"));
    });

    it("validates against the Istio schema", async () => {
        const routes = renderHostRoutes(production());
        assert.equal(routes.length, 2, "one per host: pc and sp");
        for (const route of routes) {
            assert.deepEqual(await validateKubeObject(route), []);
        }
    });
});
