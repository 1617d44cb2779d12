/** The `gateways` section's rules: defaults, and one clear line with the key path per mistake. */
import assert from "node:assert/strict";
import { ConfigError, GATEWAY_DEFAULTS, parseStackConfig } from "../components/config";
import { editConfig, stackFile } from "./support/program";

/** The dev stack with its first gateway edited; returns the problems (empty when valid). */
function problems(edit: (gateway: Record<string, any>, gateways: Record<string, any>[]) => void): string[] {
    const configMap = editConfig(stackFile("dev").configMap, "gateways", (gateways: Record<string, any>[]) => {
        edit(gateways[0], gateways);
        return gateways;
    });
    try {
        parseStackConfig(configMap, "dev");
        return [];
    } catch (error) {
        assert.ok(error instanceof ConfigError, String(error));
        return error.problems;
    }
}

describe("gateways config", () => {
    it("fills the defaults: injection mode, sidecar sizing, access log location and time zone", () => {
        const [gateway] = parseStackConfig(stackFile("dev").configMap, "dev").config.gateways;
        assert.equal(gateway.mode, "gatewayInjection");
        assert.equal(gateway.namespace, "frontend-gateway");
        assert.equal(gateway.serviceType, "ClusterIP");
        assert.equal(gateway.targetCpuUtilization, 70);
        assert.equal(gateway.ratedRequestsPerSecond, 1000, "requests/s per pod the access log is sized for");
        assert.deepEqual(gateway.accessLog, {
            cookies: ["user_session_id"],
            timeZone: GATEWAY_DEFAULTS.accessLogTimeZone,
            hostPath: GATEWAY_DEFAULTS.accessLogHostPath,
        });
        assert.equal(gateway.tls, undefined);
        assert.equal(gateway.mirror, undefined);
    });

    it("accepts the production gateway with TLS from ACME", () => {
        const [gateway] = parseStackConfig(stackFile("production").configMap, "production").config.gateways;
        assert.equal(gateway.tls?.issuer.acme?.server, GATEWAY_DEFAULTS.acmeServer);
        assert.equal(gateway.tls?.redirectHttp, true);
    });

    const cases: [string, (g: Record<string, any>, all: Record<string, any>[]) => void, string[]][] = [
        [
            "a cookie name nginx cannot read as a variable",
            (g) => (g.accessLog = { cookies: ["session-id"] }),
            [
                `bff-platform:gateways[istio-ingressgateway].accessLog.cookies[0]: "session-id" must be a cookie name of letters, digits and '_' (nginx logs it as $cookie_<name>, which cannot hold other characters)`,
            ],
        ],
        [
            "a cookie listed twice",
            (g) => (g.accessLog = { cookies: ["a", "a"] }),
            ['bff-platform:gateways[istio-ingressgateway].accessLog.cookies[1]: "a" is listed twice'],
        ],
        [
            "a host served by two gateways",
            (_g, all) => all.push({ name: "second", hosts: ["pc"] }),
            [
                'bff-platform:gateways[second].hosts[0]: "pc" is already served by gateway istio-ingressgateway: a host has one Gateway object, so one gateway',
            ],
        ],
        [
            "a mirror URL with a path or https",
            (g) => (g.mirror = { url: "https://shadow.example.com/path" }),
            [
                'bff-platform:gateways[istio-ingressgateway].mirror.url: "https://shadow.example.com/path" must be http://<host>[:<port>] without a path, e.g. "http://shadow-gateway.frontend-gateway.svc.cluster.local:8080"',
            ],
        ],
        [
            "a rate limit whose delay is above its burst",
            (g) => (g.rateLimit = { requestsPerSecond: 10, burst: 5, delay: 10 }),
            ["bff-platform:gateways[istio-ingressgateway].rateLimit.delay: 10 is above burst 5"],
        ],
        [
            "TLS with both or neither issuer",
            (g) => (g.tls = { issuer: {} }),
            ["bff-platform:gateways[istio-ingressgateway].tls.issuer: set exactly one of acme and ca"],
        ],
        [
            "an ACME account without a valid e-mail",
            (g) => (g.tls = { issuer: { acme: { email: "nobody", route53: { region: "ap-northeast-1", hostedZoneId: "Z123" } } } }),
            ['bff-platform:gateways[istio-ingressgateway].tls.issuer.acme.email: "nobody" must be an e-mail address'],
        ],
        [
            "istioOperator settings on an injection-mode gateway",
            (g) => (g.istioOperator = { install: "operator" }),
            [
                "bff-platform:gateways[istio-ingressgateway].istioOperator: applies to mode istioOperator only (this gateway's mode is gatewayInjection)",
            ],
        ],
        [
            "a relative log directory and an unknown time zone",
            (g) => (g.accessLog = { hostPath: "var/log", timeZone: "Tokyo time" }),
            [
                'bff-platform:gateways[istio-ingressgateway].accessLog.timeZone: "Tokyo time" must be an IANA time zone name such as "Asia/Tokyo" or "UTC"',
                'bff-platform:gateways[istio-ingressgateway].accessLog.hostPath: "var/log" must be an absolute directory path such as "/var/log/istio-ingressgateway"',
            ],
        ],
        [
            "a name too long for the derived object names",
            (g) => (g.name = "a".repeat(52)),
            [`bff-platform:gateways[0].name: "${"a".repeat(52)}" is 52 characters long, more than the 51 allowed here`],
        ],
        [
            "a misspelled key",
            (g) => (g.acessLog = {}),
            [
                'bff-platform:gateways[istio-ingressgateway].acessLog: unknown key; did you mean "accessLog"? allowed keys: name, namespace, mode, hosts, minReplicas, maxReplicas, targetCpuUtilization, serviceType, serviceAnnotations, ratedRequestsPerSecond, resources, accessLog, realIp, errorPages, mirror, rateLimit, tls, istioOperator',
            ],
        ],
        [
            "a rated load that is not a positive integer",
            (g) => (g.ratedRequestsPerSecond = 0),
            ["bff-platform:gateways[istio-ingressgateway].ratedRequestsPerSecond: must be at least 1, got 0"],
        ],
        [
            "a trusted proxy range that is not a CIDR",
            (g) => (g.realIp = { trustedCidrs: ["10.0.0.0"] }),
            ['bff-platform:gateways[istio-ingressgateway].realIp.trustedCidrs[0]: "10.0.0.0" is not a valid cidrv4'],
        ],
    ];

    for (const [what, edit, expected] of cases) {
        it(`rejects ${what}`, () => {
            assert.deepEqual(problems(edit), expected);
        });
    }

    it("collects every problem before failing: field rules first, then the rules across fields", () => {
        const fields = problems((g) => {
            g.serviceType = "ExternalName";
            g.accessLog = { cookies: ["a-b"] };
            g.mirror = { url: "ftp://x" };
        });
        assert.equal(fields.length, 3, fields.join("\n"));
        const across = problems((g) => {
            g.minReplicas = 5;
            g.rateLimit = { requestsPerSecond: 1, burst: 0, delay: 1 };
        });
        assert.deepEqual(across, [
            "bff-platform:gateways[istio-ingressgateway].minReplicas: 5 is above maxReplicas 2",
            "bff-platform:gateways[istio-ingressgateway].rateLimit.delay: 1 is above burst 0",
        ]);
    });
});
