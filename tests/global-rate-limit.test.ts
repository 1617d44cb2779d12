/**
 * The GlobalRateLimit component (docs/design.md §5): the ratelimit service, its Redis, the gateway's
 * EnvoyFilters, and the promise that the descriptors and the route actions, both generated from
 * the one list of limits, agree for every limit. Runs the render functions directly, the real
 * program under the mock runtime for the committed stacks, and the component alone with a known
 * token to prove the token never reaches any synth output.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { GlobalRateLimitConfig, parseStackConfig, re2FullMatch, StackConfig } from "../components/config";
import {
    envoyPathRegex,
    GlobalRateLimit,
    pathRegexWarning,
    protobufDuration,
    rateLimitNames,
    rateLimitRules,
    renderGlobalRateLimit,
    RenderedGlobalRateLimit,
} from "../components/global-rate-limit";
import { CONTENT_HASH_ANNOTATION } from "../components/shared";
import { Mode, runProgram, SECRET_MARKER } from "../cli/mock-runtime";
import { kubernetesObjects, renderManifests, renderResourcesJson } from "../cli/render";
import { editConfig, findResource, resourcesOfType, runStack, stackFile, StackName, synthesizeStack } from "./support/program";
import { validateKubeObject } from "./support/schemas";

const configOf = (stack: StackName, edit?: (configMap: Record<string, string>) => Record<string, string>): StackConfig => {
    const configMap = stackFile(stack).configMap;
    return parseStackConfig(edit === undefined ? configMap : edit(configMap), stack).config;
};
const nodeRoleOf = (config: StackConfig) => (config.nodePools.some((p) => p.role === "system") ? "system" : "worker");
const renderFor = (config: StackConfig): any =>
    renderGlobalRateLimit(config.rateLimits.global as GlobalRateLimitConfig, { gateways: config.gateways, nodeRole: nodeRoleOf(config) });

/** A production variant with path and regex limits, two gateways and the in-cluster Redis. */
const variant = () =>
    configOf("production", (configMap) => {
        let edited = editConfig(configMap, "rateLimits", (r) => {
            r.global.redis = "inCluster";
            r.global.timeout = "1s";
            r.global.limits = [
                { name: "top", path: "/", unit: "second", requestsPerUnit: 300 },
                { name: "watch", pathRegex: "/watch/(lv\\d+)", unit: "second", requestsPerUnit: 400 },
                { name: "timeshift", pathRegex: "/timeshift/(so|lv)\\d+", unit: "minute", requestsPerUnit: 6000 },
                { name: "search-top", path: "/api/search?q=top", unit: "hour", requestsPerUnit: 3600 },
            ];
            return r;
        });
        edited = editConfig(edited, "gateways", (gateways) => [
            { ...gateways[0], hosts: ["pc"] },
            { name: "sp-gateway", hosts: ["sp"], minReplicas: 2, maxReplicas: 4 },
        ]);
        return edited;
    });
/** A request path that each limit of the variant counts. */
const SAMPLES: Record<string, string> = {
    top: "/",
    watch: "/watch/lv12345",
    timeshift: "/timeshift/so987",
    "search-top": "/api/search?q=top",
};

type Entry = { key: string; value: string };

/** What the gateway's Envoy sends for a request path, from the rendered actions EnvoyFilter. */
function descriptorsSent(actionsFilter: any, path: string): Entry[] {
    const rateLimits = actionsFilter.spec.configPatches[0].patch.value.rate_limits as { actions: any[] }[];
    return rateLimits.flatMap(({ actions }) => {
        assert.equal(actions.length, 1, "one action per rate limit configuration");
        const [action] = actions;
        const match = action.header_value_match;
        assert.ok(match !== undefined, `unexpected action ${JSON.stringify(action)}`);
        assert.equal(match.headers.length, 1);
        const [header] = match.headers;
        assert.equal(header.name, ":path");
        // StringMatcher: `exact` compares the whole value, `safe_regex` must match all of it (RE2).
        const { exact, safe_regex: regex } = header.string_match;
        const matches = exact !== undefined ? path === exact : re2FullMatch(regex.regex, path);
        // expect_match defaults to true: an entry only for a matching request; descriptor_key defaults to header_match.
        return matches ? [{ key: match.descriptor_key ?? "header_match", value: match.descriptor_value }] : [];
    });
}

/** The ratelimit service's descriptors, from the rendered ConfigMap. */
function descriptorsConfigured(rendered: RenderedGlobalRateLimit): { domain: string; descriptors: any[] } {
    return parse((rendered.configMap.data as Record<string, string>)["config.yaml"]);
}

describe("global rate limit: descriptors and actions from one list", () => {
    for (const [label, config] of [
        ["dev", () => configOf("dev")],
        ["production", () => configOf("production")],
        ["a variant with path and regex limits", variant],
    ] as const) {
        it(`${label}: every limit's requests get exactly its descriptor, with its rate, on every gateway`, () => {
            const c = config();
            const rendered = renderFor(c);
            const configured = descriptorsConfigured(rendered);
            assert.equal(configured.domain, c.rateLimits.global?.domain);
            const samples: Record<string, string> = { ...SAMPLES, "top-page": "/" };
            const actionFilters = rendered.envoyFilters.filter((f: any) => f.spec.configPatches[0].applyTo === "VIRTUAL_HOST");
            assert.equal(actionFilters.length, c.gateways.length);
            for (const filter of actionFilters) {
                for (const limit of c.rateLimits.global?.limits ?? []) {
                    const sent = descriptorsSent(filter, samples[limit.name]);
                    const matched = configured.descriptors.filter((d) => sent.some((e) => e.key === d.key && e.value === d.value));
                    assert.deepEqual(
                        matched.map((d) => d.rate_limit),
                        [{ unit: limit.unit, requests_per_unit: limit.requestsPerUnit }],
                        `${limit.name} on ${filter.metadata.name}`,
                    );
                }
                // No descriptor without an action that can produce it, no action without its descriptor.
                for (const descriptor of configured.descriptors) {
                    const producible = filter.spec.configPatches[0].patch.value.rate_limits.some(
                        ({ actions: [a] }: any) =>
                            (a.header_value_match.descriptor_key ?? "header_match") === descriptor.key &&
                            a.header_value_match.descriptor_value === descriptor.value,
                    );
                    assert.ok(producible, `descriptor ${descriptor.key}=${descriptor.value} has no action`);
                }
            }
        });
    }

    it("derives each action and its descriptor entry from the same rule", () => {
        const global = variant().rateLimits.global as GlobalRateLimitConfig;
        const rules = rateLimitRules(global);
        assert.deepEqual(
            rules.map((r) => [r.limit.name, r.entry.key, r.entry.value]),
            [
                ["top", "PATH", "/"],
                ["watch", "header_match", "watch"],
                ["timeshift", "header_match", "timeshift"],
                ["search-top", "PATH", "/api/search?q=top"],
            ],
        );
        for (const rule of rules) {
            const action = rule.action as any;
            if (rule.entry.key === "PATH") {
                assert.deepEqual(action, {
                    header_value_match: {
                        descriptor_key: "PATH",
                        descriptor_value: rule.limit.path,
                        headers: [
                            {
                                name: ":path",
                                string_match:
                                    rule.limit.name === "top" ? { safe_regex: { regex: "/(?:\\?.*)?" } } : { exact: "/api/search?q=top" },
                            },
                        ],
                    },
                });
            } else {
                assert.equal(action.header_value_match.descriptor_value, rule.entry.value);
                assert.equal(
                    action.header_value_match.headers[0].string_match.safe_regex.regex,
                    `(?:${rule.limit.pathRegex})(?:/[^?]*)?(?:\\?.*)?`,
                );
            }
        }
        // One header_value_match per limit, in config order.
        const actions = renderFor(variant()).envoyFilters[1].spec.configPatches[0].patch.value.rate_limits;
        assert.deepEqual(
            actions.map(({ actions: [a] }: any) => a.header_value_match.descriptor_value),
            ["/", "watch", "timeshift", "/api/search?q=top"],
        );
    });

    it("does not count requests that no limit names", () => {
        const rendered = renderFor(configOf("production"));
        const configured = descriptorsConfigured(rendered);
        for (const path of ["/", "/watch", "/watch/", "/watch/lv", "/watch/lv1x", "/watchlist/lv1", "/timeshift/lv1"]) {
            const sent = descriptorsSent(rendered.envoyFilters[1], path);
            assert.deepEqual(
                configured.descriptors.filter((d) => sent.some((e) => e.key === d.key && e.value === d.value)),
                [],
                path,
            );
        }
    });
});

describe("global rate limit: an exact path counts its requests whatever their query string (RE2, whole :path)", () => {
    const matcherOf = (path: string) =>
        (
            rateLimitRules({
                ...(configOf("dev").rateLimits.global as GlobalRateLimitConfig),
                limits: [{ name: "p", path, unit: "second", requestsPerUnit: 1 }],
            })[0].action as any
        ).header_value_match.headers[0].string_match;

    it("counts / and /?ref=x under a limit on /, not /a or //: a query no longer slips past the top-page limit", () => {
        const { safe_regex } = matcherOf("/");
        for (const path of ["/", "/?ref=x", "/?", "/?a=1&b=2"]) {
            assert.ok(re2FullMatch(safe_regex.regex, path), path);
        }
        for (const path of ["/a", "//", "/index.html", "/a?ref=x"]) {
            assert.ok(!re2FullMatch(safe_regex.regex, path), path);
        }
    });

    it("reads a path's regex metacharacters as themselves: /feed.json+(1) matches only itself", () => {
        const { safe_regex } = matcherOf("/feed.json+(1)");
        assert.equal(safe_regex.regex, "/feed\\.json\\+\\(1\\)(?:\\?.*)?");
        assert.ok(re2FullMatch(safe_regex.regex, "/feed.json+(1)?v=2"));
        for (const path of ["/feedXjson+(1)", "/feed.jsonn(1)", "/feed.json+1"]) {
            assert.ok(!re2FullMatch(safe_regex.regex, path), path);
        }
    });

    it("keeps a path that names its query exact: /api/search?q=top counts only that :path", () => {
        assert.deepEqual(matcherOf("/api/search?q=top"), { exact: "/api/search?q=top" });
    });

    it("sends dev's top-page descriptor (PATH /, 10 per minute) for a request with a query", () => {
        const rendered = renderFor(configOf("dev"));
        const configured = descriptorsConfigured(rendered);
        const actionsFilter = rendered.envoyFilters.find((f: any) => f.spec.configPatches[0].applyTo === "VIRTUAL_HOST");
        const sent = descriptorsSent(actionsFilter, "/?utm_source=x");
        assert.deepEqual(sent, [{ key: "PATH", value: "/" }]);
        assert.deepEqual(
            configured.descriptors.filter((d) => d.key === "PATH" && d.value === "/").map((d) => d.rate_limit),
            [{ unit: "minute", requests_per_unit: 10 }],
        );
    });
});

describe("global rate limit: a regex limit tolerates a path tail and a query string (RE2, whole :path)", () => {
    // Envoy's safe_regex matches the full :path, query included (envoy.type.matcher.v3.RegexMatcher:
    // "The regex is matched against the full string, not as a partial match").
    const watchRegex = () => {
        const [rule] = rateLimitRules(configOf("production").rateLimits.global as GlobalRateLimitConfig);
        return (rule.action as any).header_value_match.headers[0].string_match.safe_regex.regex as string;
    };

    it("counts /watch/lv1 with a query, a trailing slash or a sub-path, as production's watch limit means", () => {
        const regex = watchRegex();
        assert.equal(regex, "(?:/watch/(lv\\d+))(?:/[^?]*)?(?:\\?.*)?");
        for (const path of [
            "/watch/lv1",
            "/watch/lv1?ref=x",
            "/watch/lv1/",
            "/watch/lv1/?ref=x",
            "/watch/lv1/comments?page=2",
            "/watch/lv1?",
        ]) {
            assert.ok(re2FullMatch(regex, path), path);
        }
        for (const path of ["/watch/lv1x", "/watch/lvx", "/watch/", "/x/watch/lv1", "/watch?v=lv1"]) {
            assert.ok(!re2FullMatch(regex, path), path);
        }
        // What the configured regex alone would have done: the bypass this prevents.
        assert.ok(!re2FullMatch("/watch/(lv\\d+)", "/watch/lv1?ref=x"));
        assert.ok(!re2FullMatch("/watch/(lv\\d+)", "/watch/lv1/"));
    });

    it("counts a query-string or trailing-slash request exactly once, under its limit's descriptor", () => {
        const rendered = renderFor(configOf("production"));
        const configured = descriptorsConfigured(rendered);
        for (const path of ["/watch/lv1?ref=x", "/watch/lv1/"]) {
            const sent = descriptorsSent(rendered.envoyFilters[1], path);
            assert.deepEqual(
                configured.descriptors.filter((d) => sent.some((e) => e.key === d.key && e.value === d.value)).map((d) => d.rate_limit),
                [{ unit: "second", requests_per_unit: 450 }],
                path,
            );
        }
    });

    it("warns about regexes that cannot tolerate a tail or a query", () => {
        assert.equal(pathRegexWarning("/watch/(lv\\d+)"), undefined);
        assert.equal(pathRegexWarning("/price/\\$\\d+"), undefined, "an escaped $ is a literal");
        assert.equal(
            pathRegexWarning("/watch/(lv\\d+)$"),
            '"/watch/(lv\\\\d+)$" ends with an anchor: requests with a path tail or a query string (/x/ or /x?ref=y) are not counted',
        );
        assert.equal(
            pathRegexWarning("/search\\?q=top"),
            '"/search\\\\?q=top" matches a query string itself: requests with other or reordered query parameters may not be counted',
        );
        // The warning's effect, in RE2: an anchored regex misses the query even after envoyPathRegex.
        assert.ok(!re2FullMatch(envoyPathRegex("/watch/(lv\\d+)$"), "/watch/lv1?ref=x"));
    });
});

describe("global rate limit: the ratelimit service", () => {
    const production = () => renderFor(configOf("production"));

    it("runs a pinned image, reads its descriptors from a directory mount, and reloads them", () => {
        const deployment = production().deployment;
        const container = deployment.spec.template.spec.containers[0];
        assert.equal(
            container.image,
            "envoyproxy/ratelimit:1e50889b@sha256:5bb3741fd6709bab1d498eae1a5807faa2113b712dfb236fb76c04a00871ffc9",
        );
        // The version label is the tag, not the digest.
        assert.equal(deployment.metadata.labels["app.kubernetes.io/version"], "1e50889b");
        const env = Object.fromEntries(container.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
        assert.equal(env.USE_STATSD, "false");
        assert.equal(env.RUNTIME_WATCH_ROOT, "false");
        assert.equal(env.RUNTIME_IGNOREDOTFILES, "true");
        assert.equal(env.REDIS_SOCKET_TYPE, "tcp");
        assert.equal(env.REDIS_TLS, "true");
        const mount = container.volumeMounts[0];
        assert.equal(mount.subPath, undefined, "a subPath mount never sees ConfigMap updates");
        assert.equal(mount.mountPath, `${env.RUNTIME_ROOT}/${env.RUNTIME_SUBDIRECTORY}/${env.RUNTIME_APPDIRECTORY}`);
        const volume = deployment.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
        assert.equal(volume.configMap.name, production().configMap.metadata.name);
    });

    it("rolls when the descriptors change, through the content hash", () => {
        const hash = (r: any) => r.deployment.spec.template.metadata.annotations[CONTENT_HASH_ANNOTATION];
        const before = production();
        const after = renderFor(
            configOf("production", (m) =>
                editConfig(m, "rateLimits", (r) => {
                    r.global.limits[0].requestsPerUnit = 400;
                    return r;
                }),
            ),
        );
        assert.match(hash(before), /^[0-9a-f]{64}$/);
        assert.notEqual(hash(after), hash(before));
    });

    it("probes /healthcheck, keeps replicas through drains, and serves the EDS cluster the gateway names", () => {
        const rendered = production();
        const container = rendered.deployment.spec.template.spec.containers[0];
        assert.deepEqual(container.readinessProbe.httpGet, { path: "/healthcheck", port: "http" });
        assert.deepEqual(container.startupProbe.httpGet, { path: "/healthcheck", port: "http" });
        assert.equal(rendered.deployment.spec.replicas, 2);
        assert.deepEqual(rendered.podDisruptionBudget.spec, {
            maxUnavailable: 1,
            selector: { matchLabels: rendered.deployment.spec.selector.matchLabels },
        });
        const ports = rendered.service.spec.ports;
        assert.deepEqual(
            ports.map((p: any) => [p.name, p.port]),
            [
                ["http-ratelimit-svc", 8080],
                ["grpc-ratelimit-svc", 8081],
                ["http-debug-ratelimit-svc", 6070],
            ],
        );
        const grpc = ports.find((p: any) => p.name.startsWith("grpc-"));
        const service = `${rendered.service.metadata.name}.${rendered.service.metadata.namespace}.svc.cluster.local`;
        const filter = rendered.envoyFilters[0].spec.configPatches[0].patch.value.typed_config;
        assert.equal(filter.rate_limit_service.grpc_service.envoy_grpc.cluster_name, `outbound|${grpc.port}||${service}`);
        assert.equal(
            filter.rate_limit_service.grpc_service.envoy_grpc.cluster_name,
            "outbound|8081||ratelimit.frontend-ratelimit.svc.cluster.local",
        );
        // Every Service port reaches a named container port.
        const containerPorts = container.ports.map((p: any) => p.name);
        assert.ok(ports.every((p: any) => containerPorts.includes(p.targetPort)));
    });

    it("runs unprivileged, read-only, without service account token or istio sidecar", () => {
        const workloads = [production().deployment, ...renderFor(configOf("dev")).redis.filter((o: any) => o.kind === "Deployment")];
        assert.deepEqual(
            workloads.map((w) => w.metadata.name),
            ["ratelimit", "ratelimit-redis"],
        );
        for (const workload of workloads) {
            const pod = workload.spec.template.spec;
            assert.equal(pod.securityContext.runAsNonRoot, true, workload.metadata.name);
            assert.ok(pod.securityContext.runAsUser > 0);
            assert.equal(pod.automountServiceAccountToken, false);
            assert.equal(workload.spec.template.metadata.labels["sidecar.istio.io/inject"], "false");
            for (const container of pod.containers) {
                assert.equal(container.securityContext.readOnlyRootFilesystem, true);
                assert.equal(container.securityContext.allowPrivilegeEscalation, false);
                assert.equal(container.securityContext.privileged, undefined);
                assert.deepEqual(container.securityContext.capabilities, { drop: ["ALL"] });
            }
        }
    });

    it("lets only the gateways' pods call it, and only ratelimit reach the in-cluster Redis", () => {
        const rendered = renderFor(variant());
        assert.deepEqual(rendered.networkPolicy.spec.ingress, [
            {
                from: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "frontend-gateway" } },
                        podSelector: { matchLabels: { istio: "istio-ingressgateway" } },
                    },
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "frontend-gateway" } },
                        podSelector: { matchLabels: { istio: "sp-gateway" } },
                    },
                ],
                ports: [{ protocol: "TCP", port: 8081 }],
            },
        ]);
        const redisPolicy = rendered.redis.find((o: any) => o.kind === "NetworkPolicy");
        assert.deepEqual(redisPolicy.spec.ingress[0].from, [
            { podSelector: { matchLabels: rendered.deployment.spec.selector.matchLabels } },
        ]);
    });

    it("uses an in-cluster Redis in dev, without persistence, and none with ElastiCache", () => {
        const dev = renderFor(configOf("dev"));
        assert.deepEqual(
            dev.redis.map((o: any) => `${o.kind} ${o.metadata.name}`),
            ["Deployment ratelimit-redis", "Service ratelimit-redis", "NetworkPolicy ratelimit-redis"],
        );
        const redis = dev.redis[0].spec.template.spec.containers[0];
        assert.equal(redis.image, "redis:7.2.11-alpine@sha256:cd3e4dbac9604660d08efac21b27daa2ae91dde1e19203b49ec8567050ba093f");
        assert.equal(dev.redis[0].metadata.labels["app.kubernetes.io/version"], "7.2.11-alpine");
        assert.deepEqual(dev.redis[0].spec.template.spec.securityContext, {
            runAsNonRoot: true,
            runAsUser: 10999,
            runAsGroup: 10999,
            fsGroup: 10999,
            seccompProfile: { type: "RuntimeDefault" },
        });
        assert.deepEqual(redis.args.slice(0, 5), ["redis-server", "--save", "", "--appendonly", "no"]);
        const env = dev.deployment.spec.template.spec.containers[0].env;
        assert.deepEqual(
            env.find((e: any) => e.name === "REDIS_URL"),
            { name: "REDIS_URL", value: "ratelimit-redis.frontend-ratelimit.svc.cluster.local:6379" },
        );
        assert.equal(
            env.some((e: any) => e.name === "REDIS_AUTH"),
            false,
        );
        assert.deepEqual(production().redis, []);
    });
});

describe("global rate limit: the gateway's EnvoyFilters", () => {
    it("inserts envoy.filters.http.ratelimit before the router on each gateway, failing open by default", () => {
        const rendered = renderFor(variant());
        assert.deepEqual(
            rendered.envoyFilters.map((f: any) => [f.metadata.namespace, f.metadata.name, f.spec.workloadSelector.labels.istio]),
            [
                ["frontend-gateway", "istio-ingressgateway-ratelimit", "istio-ingressgateway"],
                ["frontend-gateway", "istio-ingressgateway-ratelimit-actions", "istio-ingressgateway"],
                ["frontend-gateway", "sp-gateway-ratelimit", "sp-gateway"],
                ["frontend-gateway", "sp-gateway-ratelimit-actions", "sp-gateway"],
            ],
        );
        const patch = rendered.envoyFilters[0].spec.configPatches[0];
        assert.equal(patch.applyTo, "HTTP_FILTER");
        assert.deepEqual(patch.match, {
            context: "GATEWAY",
            listener: {
                filterChain: {
                    filter: { name: "envoy.filters.network.http_connection_manager", subFilter: { name: "envoy.filters.http.router" } },
                },
            },
        });
        assert.equal(patch.patch.operation, "INSERT_BEFORE");
        assert.equal(patch.patch.value.name, "envoy.filters.http.ratelimit");
        const typed = patch.patch.value.typed_config;
        assert.equal(typed["@type"], "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit");
        assert.equal(typed.domain, "frontend");
        assert.equal(typed.failure_mode_deny, false);
        assert.equal(typed.timeout, "1s");
        assert.equal(typed.rate_limit_service.transport_api_version, "V3");
        const actions = rendered.envoyFilters[1].spec.configPatches[0];
        assert.equal(actions.applyTo, "VIRTUAL_HOST");
        assert.equal(actions.match.context, "GATEWAY");
        assert.equal(actions.patch.operation, "MERGE");
    });

    it("writes durations as protobuf JSON", () => {
        assert.equal(protobufDuration("50ms"), "0.050s");
        assert.equal(protobufDuration("1500ms"), "1.500s");
        assert.equal(protobufDuration("2s"), "2s");
        assert.equal(protobufDuration("1000ms"), "1s");
        for (const bad of ["50 ms", "x50ms", "50msx", "1m", ""]) {
            assert.throws(() => protobufDuration(bad), { name: "RangeError", message: `not a duration of ms or s: ${bad}` }, bad);
        }
    });

    it("names the EnvoyFilter in the error when a gateway's name makes its filter names too long", () => {
        const names = rateLimitNames(configOf("production").rateLimits.global as GlobalRateLimitConfig);
        const gateway = { ...configOf("production").gateways[0], name: "g".repeat(250) };
        assert.throws(() => names.filter(gateway), new RegExp(`^InvalidNameError: EnvoyFilter of g{250}: `));
        assert.throws(() => names.actions(gateway), new RegExp(`^InvalidNameError: EnvoyFilter of g{250}: `));
    });

    it("validates every object of the variant against the upstream schemas", async () => {
        const rendered = renderFor(variant());
        const objects = [
            rendered.configMap,
            rendered.deployment,
            rendered.service,
            rendered.podDisruptionBudget,
            rendered.networkPolicy,
            ...rendered.redis,
            ...rendered.envoyFilters,
        ];
        const problems: string[] = [];
        for (const object of objects) {
            problems.push(...(await validateKubeObject(object)).map((p) => `${object.kind} ${object.metadata.name}: ${p}`));
        }
        assert.deepEqual(problems, []);
    });
});

/**
 * Runs the GlobalRateLimit component alone, with production's gateways and cluster network. With
 * `reveal`, what the connection Secret holds is returned unmasked as the `secretData` output.
 */
function runComponent(
    global: GlobalRateLimitConfig,
    token: string | undefined,
    { mode = "up", reveal = false }: { mode?: Mode; reveal?: boolean } = {},
) {
    const config = configOf("production");
    return runProgram(
        async () => {
            const provider = new k8s.Provider("cluster", {});
            const component = new GlobalRateLimit(
                "ratelimit",
                {
                    global,
                    gateways: config.gateways,
                    nodeRole: "system",
                    aws:
                        token === undefined
                            ? undefined
                            : {
                                  clusterName: config.cluster.name,
                                  vpcId: config.cluster.vpcId ?? "",
                                  privateSubnetIds: config.cluster.privateSubnetIds ?? [],
                                  tags: {},
                                  authToken: pulumi.secret(token),
                              },
                },
                { provider },
            );
            return {
                token: pulumi.secret(token ?? ""),
                secretData: reveal && component.redisSecret !== undefined ? pulumi.unsecret(component.redisSecret.stringData) : undefined,
                url: component.elastiCache?.url,
            };
        },
        { project: "bff-platform", stack: "test", configMap: { "aws:region": "ap-northeast-1" }, mode },
    );
}

describe("global rate limit in the program", () => {
    it("registers every Kubernetes object through the cluster provider, in argocd mode too", async () => {
        const result = await runStack("production");
        const component = findResource(result, "bff-platform:ratelimit:GlobalRateLimit", "ratelimit");
        const clusterProvider = findResource(result, "pulumi:providers:kubernetes", "frontend-production-k8s");
        const children = result.resources.filter((r) => r.parent === component.urn && r.type.startsWith("kubernetes:"));
        assert.deepEqual(children.map((r) => `${r.inputs.kind} ${r.name}`).sort(), [
            "ConfigMap ratelimit-config",
            "Deployment ratelimit",
            "EnvoyFilter istio-ingressgateway-ratelimit",
            "EnvoyFilter istio-ingressgateway-ratelimit-actions",
            "NetworkPolicy ratelimit",
            "PodDisruptionBudget ratelimit",
            "Secret ratelimit-redis",
            "Service ratelimit",
        ]);
        for (const child of children) {
            assert.ok(child.provider?.startsWith(`${clusterProvider.urn}::`), `${child.name} goes through ${child.provider}`);
        }
        const namespace = findResource(result, "kubernetes:core/v1:Namespace", "frontend-ratelimit");
        assert.equal((namespace.inputs.metadata as any).labels["istio-injection"], "disabled");
    });

    it("creates ElastiCache with encryption, a secret auth token and protection, in the cluster's private subnets", async () => {
        const result = await runStack("production");
        const group = findResource(result, "aws:elasticache/replicationGroup:ReplicationGroup", "frontend-production-ratelimit");
        assert.equal(group.protect, true);
        assert.equal(group.inputs.transitEncryptionEnabled, true);
        assert.equal(group.inputs.atRestEncryptionEnabled, true);
        assert.equal(group.inputs.authToken, SECRET_MARKER);
        // A new token is added beside the old one (no client cut off); the README's rotation ends with SET.
        assert.equal(group.inputs.authTokenUpdateStrategy, "ROTATE");
        assert.equal(
            findResource(result, "random:index/randomPassword:RandomPassword", "frontend-production-ratelimit-auth").inputs.special,
            false,
        );
        assert.equal(group.inputs.automaticFailoverEnabled, true);
        const config = configOf("production");
        const subnets = findResource(result, "aws:elasticache/subnetGroup:SubnetGroup", "frontend-production-ratelimit");
        assert.deepEqual(subnets.inputs.subnetIds, config.cluster.privateSubnetIds);
        const securityGroup = findResource(result, "aws:ec2/securityGroup:SecurityGroup", "frontend-production-ratelimit");
        assert.equal(securityGroup.inputs.vpcId, config.cluster.vpcId);
        // Redis's own rules (the cluster security group also admits the deployer on 443).
        const rules = resourcesOfType(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) =>
            r.name.includes("-ratelimit-"),
        );
        assert.equal(rules.length, config.cluster.privateSubnetIds?.length);
        assert.ok(rules.every((r) => r.inputs.fromPort === 6379 && r.inputs.toPort === 6379 && r.inputs.ipProtocol === "tcp"));
        assert.equal(resourcesOfType(result, "random:index/randomPassword:RandomPassword").length, 1);
        const secret = findResource(result, "kubernetes:core/v1:Secret", "ratelimit-redis");
        // The typed Secret class makes the whole map secret.
        assert.equal(secret.inputs.stringData, SECRET_MARKER);
        // ratelimit reads REDIS_URL and REDIS_AUTH from it at start: the Deployment waits for it.
        assert.ok(findResource(result, "kubernetes:apps/v1:Deployment", "ratelimit").dependencies.includes(secret.urn));
        // Dev has neither ElastiCache nor a token.
        const devResult = await runStack("dev");
        assert.equal(resourcesOfType(devResult, "aws:elasticache/replicationGroup:ReplicationGroup").length, 0);
        assert.equal(resourcesOfType(devResult, "random:index/randomPassword:RandomPassword").length, 0);
    });

    it("never writes the auth token: not in manifests, resources.json, ConfigMaps or env values", async () => {
        const token = "sentinel-token-7f3a9c1e5b2d4a6c8e0f1a3b5c7d9e2f4a6b8c0d1e3f5a7b9c2d4e6f8a0b1c3";
        const config = configOf("production");
        const result = await runComponent(config.rateLimits.global as GlobalRateLimitConfig, token);
        const objects = kubernetesObjects(result.resources);
        const files = [...renderManifests(objects).values(), renderResourcesJson(result.resources), JSON.stringify(result.outputs)].join(
            "\n",
        );
        assert.ok(!files.includes(token), "the token appears in synth output");
        assert.ok(!files.includes(Buffer.from(token).toString("base64")), "the token appears base64-encoded");
        const secret = objects.find((o) => o.kind === "Secret") as any;
        assert.deepEqual(secret.stringData, { [SECRET_MARKER]: SECRET_MARKER }, "rendered masked, keeping the map's shape");
        assert.equal(
            findResource(result, "aws:elasticache/replicationGroup:ReplicationGroup", "frontend-production-ratelimit").inputs.authToken,
            SECRET_MARKER,
        );
        assert.equal(objects.filter((o) => o.kind === "ConfigMap").length, 1, "the descriptors ConfigMap is checked");
        for (const object of objects) {
            if (object.kind === "ConfigMap") {
                assert.doesNotMatch(JSON.stringify(object), /REDIS_AUTH|\[secret\]/, object.metadata.name);
            }
        }
        const env = (objects.find((o) => o.kind === "Deployment") as any).spec.template.spec.containers[0].env;
        assert.deepEqual(
            env.find((e: any) => e.name === "REDIS_AUTH"),
            { name: "REDIS_AUTH", valueFrom: { secretKeyRef: { name: "ratelimit-redis", key: "REDIS_AUTH" } } },
        );
    });

    it("gives ratelimit the ElastiCache primary endpoint with its port and the token, in the Secret it reads", async () => {
        const token = "sentinel-token-for-the-secret";
        const result = await runComponent(configOf("production").rateLimits.global as GlobalRateLimitConfig, token, { reveal: true });
        // The mock runtime's ElastiCache endpoint (cli/mock-runtime.ts), as the cloud would return it.
        const endpoint = "master.frontend-production-ratelimit.mock.cache.amazonaws.com:6379";
        assert.equal(result.outputs.url, endpoint);
        assert.deepEqual(result.outputs.secretData, { REDIS_URL: endpoint, REDIS_AUTH: token });
    });

    it("turns automatic failover and Multi-AZ on only with a replica: AWS refuses them on one node", async () => {
        const global = configOf("production").rateLimits.global as GlobalRateLimitConfig;
        for (const [numCacheClusters, failover] of [
            [1, false],
            [2, true],
        ] as const) {
            const result = await runComponent({ ...global, elasticache: { nodeType: "cache.t4g.small", numCacheClusters } }, "t");
            const group = findResource(result, "aws:elasticache/replicationGroup:ReplicationGroup", "frontend-production-ratelimit");
            assert.equal(group.inputs.numCacheClusters, numCacheClusters);
            assert.equal(group.inputs.automaticFailoverEnabled, failover, `${numCacheClusters} node(s)`);
            assert.equal(group.inputs.multiAzEnabled, failover, `${numCacheClusters} node(s)`);
        }
    });

    it("refuses ElastiCache without the cluster's network settings, naming what is missing", async () => {
        const global = configOf("production").rateLimits.global as GlobalRateLimitConfig;
        await assert.rejects(
            runComponent(global, undefined),
            /GlobalRateLimit: redis elasticache needs the aws settings \(cluster name, VPC, subnets\)/,
        );
    });

    it("warns in preview and up about each limit whose pathRegex cannot tolerate a tail or a query, naming the limit", async () => {
        const global = configOf("production").rateLimits.global as GlobalRateLimitConfig;
        const limits = [...global.limits, { ...global.limits[0], name: "anchored", pathRegex: "/anchored/[a-z]+$" }];
        const warnings: string[] = [];
        const original = console.warn;
        // Without an engine (the mock runtime), pulumi.log.warn writes to console.warn
        // (@pulumi/pulumi log/index.js); under the engine it is a WARNING diagnostic of the component.
        console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
        try {
            await runComponent({ ...global, limits }, "t", { mode: "preview" });
        } finally {
            console.warn = original;
        }
        assert.deepEqual(warnings, [
            `warning: [runtime] rateLimits.global.limits[${limits.length - 1}].pathRegex: ${pathRegexWarning("/anchored/[a-z]+$")}`,
        ]);
    });

    it("synth of production shows the token only as the secret marker", async () => {
        const { files } = await synthesizeStack("production", "up");
        const secretFile = files.get("manifests/frontend-ratelimit/ratelimit/secret-ratelimit-redis.yaml") as string;
        assert.match(secretFile, /stringData:\n {2}"\[secret\]": "\[secret\]"\n/);
        const resources = JSON.parse(files.get("resources.json") as string) as any[];
        const password = resources.find((r) => r.type === "random:index/randomPassword:RandomPassword");
        assert.equal(password.inputs.result, undefined, "the generated token is an output, never an input");
        assert.match(
            files.get("report.md") as string,
            /\| watch \| `\/watch\/\(lv\\d\+\)` \| 450\/second = 450 \| pc-watch \(pc\), sp-watch \(sp\) \| 480 rps .* \| 450 \(live-program-api\) \| 450 \| yes \|/,
        );
    });
});
