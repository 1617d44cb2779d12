/**
 * The rules of one field or one entry that a stack file can break, each with the message a user
 * reads in `pulumi preview`: resources, CronJob schedules, local rate limits, canary steps and
 * analysis, environment variables, ports, jobs, migrations, gateways, node pools, the network, the
 * AWS region, add-on namespaces, and global limit regexes that can never match.
 * Each case edits the committed dev stack and expects its problems as literals.
 */
import assert from "node:assert/strict";
import { imageReference, parseStackConfig, pathRegexProblem, RUNTIME_DEFAULTS, reservedPortProblem } from "../components/config";
import { configProblems, editConfig, stackFile } from "./support/program";

const dev = () => stackFile("dev").configMap;
/** dev with its first service (pc-web) edited. */
const pcWeb = (edit: (service: Record<string, any>) => void) => editConfig(dev(), "services", (services) => (edit(services[0]), services));
/** dev with its gateway edited. */
const gateway = (edit: (gateway: Record<string, any>) => void) =>
    editConfig(dev(), "gateways", (gateways) => (edit(gateways[0]), gateways));
const accepted = (configMap: Record<string, string>) => assert.ok(parseStackConfig(configMap, "dev").config);
const PC_WEB = "bff-platform:services[pc-web]";

describe("config rules of container resources", () => {
    const requests = (cpu: string, memory = "256Mi") => pcWeb((s) => (s.resources.requests = { cpu, memory }));

    it("refuses a negative amount once, spaces included, and no zero CPU request (the HPA divides by it)", () => {
        assert.deepEqual(configProblems(requests("-250m")), [`${PC_WEB}.resources.requests.cpu: "-250m" is negative`]);
        assert.deepEqual(configProblems(requests(" -250m")), [`${PC_WEB}.resources.requests.cpu: " -250m" is negative`]);
        assert.deepEqual(configProblems(pcWeb((s) => (s.resources.limits.memory = "-1Gi"))), [
            `${PC_WEB}.resources.limits.memory: "-1Gi" is negative`,
        ]);
        assert.deepEqual(configProblems(requests("0")), [
            `${PC_WEB}.resources.requests.cpu: 0 is not above zero: the HPA and the capacity figures divide by it`,
        ]);
    });

    it("compares requests with limits only when both are quantities: a wrong amount is its own one problem", () => {
        const notAQuantity = (path: string) =>
            `${PC_WEB}.resources.${path}: "lots" is not a Kubernetes quantity (examples: 250m, 1, 1.5, 512Mi, 2Gi, 1G)`;
        assert.deepEqual(configProblems(requests("100m", "lots")), [notAQuantity("requests.memory")]);
        assert.deepEqual(configProblems(requests("lots")), [notAQuantity("requests.cpu")]);
        assert.deepEqual(configProblems(pcWeb((s) => (s.resources.limits.cpu = "lots"))), [notAQuantity("limits.cpu")]);
    });
});

describe("config rules of CronJob schedules", () => {
    const schedule = (cron: string) => pcWeb((s) => (s.jobs = [{ name: "purge", schedule: cron, command: ["true"] }]));
    const problem = (cron: string, text: string) => [`${PC_WEB}.jobs[purge].schedule: "${cron}" ${text}`];

    it("names the field and what in it Kubernetes would refuse", () => {
        assert.deepEqual(
            configProblems(schedule("0 21 * foo 1-5")),
            problem(
                "0 21 * foo 1-5",
                'month field "foo" is not a number or a name (jan, feb, mar, apr, may, jun, jul, aug, sep, oct, nov, dec)',
            ),
        );
        assert.deepEqual(configProblems(schedule("x 21 * * 1-5")), problem("x 21 * * 1-5", 'minute field "x" is not a number'));
        assert.deepEqual(
            configProblems(schedule("0 21 * * 1-2-3")),
            problem("0 21 * * 1-2-3", 'day of week field "1-2-3" is not a value, a range a-b, * or a step'),
        );
        assert.deepEqual(
            configProblems(schedule("0 21 * * 1-")),
            problem("0 21 * * 1-", 'day of week field "1-" is not a value, a range a-b, * or a step'),
        );
    });

    it("takes a step of whole positive numbers only: */15, not */0, */a5 or */5a", () => {
        accepted(schedule("*/15 21 * * 1-5"));
        for (const step of ["*/0", "*/a5", "*/5a"]) {
            const cron = `${step} 21 * * 1-5`;
            assert.deepEqual(
                configProblems(schedule(cron)),
                problem(cron, `minute field "${step}" has a step that is not a positive number`),
            );
        }
    });
});

describe("config rules of a service entry", () => {
    it("keeps delay to the nginx limiter, at most its burst", () => {
        const local = (limit: Record<string, unknown>) =>
            pcWeb((s) => (s.rateLimit = { local: { requestsPerSecond: 10, burst: 5, ...limit } }));
        assert.deepEqual(configProblems(local({ type: "envoy", delay: 1 })), [
            `${PC_WEB}.rateLimit.local.delay: applies to the nginx limiter only (envoy's token bucket has no delay)`,
        ]);
        assert.deepEqual(configProblems(local({ type: "nginx", delay: 6 })), [`${PC_WEB}.rateLimit.local.delay: 6 is above burst 5`]);
        accepted(local({ type: "nginx", delay: 5 }));
    });

    it("wants one action per canary step, a setWeight step, and a Prometheus address for Prometheus analysis", () => {
        const canary = (value: Record<string, unknown>) => pcWeb((s) => (s.canary = value));
        assert.deepEqual(configProblems(canary({ steps: [{}, { setWeight: 100 }] })), [
            `${PC_WEB}.canary.steps[0]: set exactly one of setWeight and pause (got none)`,
        ]);
        assert.deepEqual(configProblems(canary({ steps: [{ pause: 10 }] })), [
            `${PC_WEB}.canary.steps: has no setWeight step: end with setWeight 100, or the rollout never completes`,
        ]);
        assert.deepEqual(configProblems(canary({ steps: [{ setWeight: 100 }], analysis: { provider: "prometheus" } })), [
            `${PC_WEB}.canary.analysis.prometheusAddress: is required with provider "prometheus"`,
        ]);
    });

    it("refuses canary settings on a rollingUpdate service, and a migration without routes", () => {
        assert.deepEqual(
            configProblems(pcWeb((s) => Object.assign(s, { strategy: "rollingUpdate", canary: { steps: [{ setWeight: 100 }] } }))),
            [`${PC_WEB}.canary: applies to strategy "canary" only (this service's strategy is "rollingUpdate")`],
        );
        const migration = { legacyHost: "legacy.example.com", legacyWeight: 50 };
        assert.deepEqual(configProblems(pcWeb((s) => Object.assign(s, { strategy: "rollingUpdate", routes: [], migration }))), [
            `${PC_WEB}.migration: needs routes: only traffic entering through the gateway can be switched`,
        ]);
    });

    it("refuses an environment variable name a shell could not read", () => {
        assert.deepEqual(configProblems(pcWeb((s) => (s.env = { "1X": "a", OK_1: "b" }))), [
            `${PC_WEB}.env.1X: "1X" is not an environment variable name (letters, digits and '_', not starting with a digit)`,
        ]);
    });

    it("refuses istio-proxy's ports, and the limiter's port when the service has one", () => {
        assert.deepEqual(configProblems(pcWeb((s) => (s.port = 15001))), [
            `${PC_WEB}.port: 15001 is in 15000-15090, the ports istio-proxy listens on in every pod (admin, inbound, outbound, health, metrics)`,
        ]);
        // pc-web has the nginx limiter in dev.
        assert.deepEqual(configProblems(pcWeb((s) => (s.port = 8079))), [
            `${PC_WEB}.port: 8079 is the listen port of the nginx rate-limiter sidecar (rateLimit.local.type nginx): pick another port`,
        ]);
        accepted(pcWeb((s) => ((s.port = 8079), delete s.rateLimit)));
        // The range's both ends.
        assert.equal(configProblems(pcWeb((s) => (s.port = 15000))).length, 1);
        assert.equal(configProblems(pcWeb((s) => (s.port = 15090))).length, 1);
        accepted(pcWeb((s) => (s.port = 14999)));
        accepted(pcWeb((s) => (s.port = 15091)));
    });

    it("gives no runtime a default port that a pod reserves, with or without the limiter", () => {
        assert.deepEqual(Object.keys(RUNTIME_DEFAULTS).sort(), ["nodejs", "php", "ruby", "scala"]);
        for (const [runtime, { port }] of Object.entries(RUNTIME_DEFAULTS)) {
            assert.equal(reservedPortProblem(port, true), undefined, runtime);
        }
    });

    it("names a Job after its service and job, within 63 characters (the entry by index: its name is the problem)", () => {
        const long = "x".repeat(60);
        assert.deepEqual(configProblems(pcWeb((s) => (s.jobs = [{ name: long, command: ["true"] }]))), [
            `${PC_WEB}.jobs[0].name: the Job name "pc-web-${long}" is 67 characters long, more than the limit of 63`,
        ]);
    });

    it("names the owner of a taken route by its index when its name is not a string", () => {
        const taken = editConfig(dev(), "services", (s) => ((s[0].name = 5), (s[2].routes = [{ host: "pc", pathPrefix: "/" }]), s));
        assert.deepEqual(configProblems(taken), [
            "bff-platform:services[0].name: must be a string, got number 5",
            "bff-platform:services[pc-watch].routes[0].pathPrefix: / on host pc is already routed to services[0]",
        ]);
    });
});

describe("config rules of lists, gateways, node pools and the network", () => {
    it("says only what is wrong with a list that is not a list or is missing, or with names that are not strings", () => {
        assert.deepEqual(configProblems({ ...dev(), "bff-platform:services": '"x"' }), [
            'bff-platform:services: must be a list, got string "x"',
        ]);
        assert.deepEqual(configProblems({ ...dev(), "bff-platform:gateways": '"x"' }), [
            'bff-platform:gateways: must be a list, got string "x"',
        ]);
        // No gateways at all: the one problem is the global limit that needs one.
        const { "bff-platform:gateways": _gateways, ...withoutGateways } = dev();
        assert.deepEqual(configProblems(withoutGateways), [
            "bff-platform:rateLimits.global: needs an ingress gateway: global limits are enforced by the gateway's Envoy (EnvoyFilters on its pods); add a gateways entry",
        ]);
        // A gateway entry that is not a mapping, or whose hosts are not a list, serves no host.
        assert.deepEqual(configProblems(editConfig(dev(), "gateways", (g) => [g[0], null])), [
            "bff-platform:gateways[1]: must be an object, got null",
        ]);
        const unlisted = configProblems(gateway((g) => (g.hosts = "pc")));
        assert.equal(unlisted[0], 'bff-platform:gateways[istio-ingressgateway].hosts: must be a list, got string "pc"');
        assert.equal(
            unlisted[1],
            'bff-platform:services[pc-web].routes[0].host: "pc" is served by no gateway: add it to a gateways[].hosts list',
        );
        // Two hosts named 1: their type is the problem, not a duplicate name.
        const problems = configProblems(editConfig(dev(), "hosts", (hosts) => ((hosts[0].name = 1), (hosts[1].name = 1), hosts)));
        assert.deepEqual(problems.slice(0, 2), [
            "bff-platform:hosts[0].name: must be a string, got number 1",
            "bff-platform:hosts[1].name: must be a string, got number 1",
        ]);
        assert.equal(problems.filter((p) => p.includes("already")).length, 0);
    });

    it("checks a gateway's log directory, limiter delay and Service annotation keys", () => {
        const GATEWAY = "bff-platform:gateways[istio-ingressgateway]";
        assert.deepEqual(configProblems(gateway((g) => (g.accessLog = { hostPath: "/var/log/../x" }))), [
            `${GATEWAY}.accessLog.hostPath: must not contain '..'`,
        ]);
        accepted(gateway((g) => (g.rateLimit = { requestsPerSecond: 10, burst: 5, delay: 5 })));
        assert.deepEqual(configProblems(gateway((g) => (g.serviceAnnotations = { "example.com/": "x" }))), [
            `${GATEWAY}.serviceAnnotations.example.com/: is not an annotation key Kubernetes accepts ([prefix/]name)`,
        ]);
    });

    it("refuses a node pool whose minimum is above its maximum", () => {
        const pools = editConfig(dev(), "nodePools", (p) => ((p[0].minSize = 3), (p[0].maxSize = 2), p));
        assert.deepEqual(configProblems(pools), [
            "bff-platform:nodePools[gateway].minSize: 3 is above maxSize 2",
            "bff-platform:nodePools[gateway].desiredSize: 1 is outside minSize..maxSize (3..2)",
        ]);
    });

    it("refuses network settings that only a created network uses", () => {
        assert.deepEqual(configProblems({ ...dev(), "bff-platform:network": JSON.stringify({ cidr: "10.20.0.0/16" }) }), [
            "bff-platform:network.cidr: is used only with network.create: true (set it, or remove this key)",
        ]);
    });
});

describe("config image references", () => {
    it("pins an image by digest after its tag once the digest is known", () => {
        const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert.equal(
            imageReference({ repository: "docker.io/library/nginx", tag: "1.29.3", digest }),
            `docker.io/library/nginx:1.29.3@${digest}`,
        );
        assert.equal(
            imageReference({ repository: "docker.io/library/nginx", tag: "1.29.3", digest: undefined }),
            "docker.io/library/nginx:1.29.3",
        );
    });
});

describe("config rules across the stack", () => {
    it("names an AWS region that is not one", () => {
        assert.deepEqual(configProblems({ ...dev(), "aws:region": "tokyo" }), [
            'aws:region: "tokyo" is not an AWS region name (e.g. ap-northeast-1)',
        ]);
    });

    it("refuses two gateways with one name, and a '..' directory, but not '..' inside a name", () => {
        const twice = editConfig(dev(), "gateways", (g) => [
            { ...g[0], hosts: ["pc"] },
            { ...g[0], hosts: ["sp"] },
        ]);
        assert.deepEqual(configProblems(twice), [
            'bff-platform:gateways[1].name: "istio-ingressgateway" is already the name of gateways[0]; names must be unique',
        ]);
        accepted(gateway((g) => (g.accessLog = { hostPath: "/var/log/gateway..old" })));
    });

    it("wants gateway nodes only when there are gateways", () => {
        const { "bff-platform:gateways": _gateways, "bff-platform:rateLimits": _rateLimits, ...withoutGateways } = dev();
        accepted(editConfig(withoutGateways, "nodePools", (pools) => pools.filter((pool: { role: string }) => pool.role !== "gateway")));
        assert.deepEqual(
            configProblems(editConfig(dev(), "nodePools", (pools) => pools.filter((pool: { role: string }) => pool.role !== "gateway"))),
            ['bff-platform:nodePools: needs a pool with role "gateway": gateways run on dedicated gateway nodes (docs/design.md §4)'],
        );
    });

    it("refuses a gateway namespace an enabled add-on uses, and allows it while the add-on is off", () => {
        const inDatadog = gateway((g) => (g.namespace = "datadog"));
        assert.deepEqual(configProblems(inDatadog), [
            'bff-platform:addons.datadog: "datadog" gives the datadog add-on\'s namespace the name of the gateway namespace from gateways[istio-ingressgateway].namespace "datadog": Namespace "datadog"; Kubernetes and Pulumi would see one object, so rename one of them',
        ]);
        accepted(editConfig(inDatadog, "addons", (addons) => ((addons.datadog = { enabled: false }), addons)));
    });
});

describe("config global limits checked against capacity", () => {
    const watch = (limit: Record<string, unknown>) =>
        editConfig(stackFile("production").configMap, "rateLimits", (r) => ((r.global.limits[0] = { ...r.global.limits[0], ...limit }), r));
    const problems = (limit: Record<string, unknown>) => configProblems(watch(limit), "production");

    it("compares a limit with its ceiling only once the limit itself is right", () => {
        // production's watch limit (450 rps) is above its ceiling (320 rps).
        assert.match(
            problems({ pathRegex: "/x.*" })[0],
            /^bff-platform:rateLimits\.global\.limits\[watch\]\.requestsPerUnit: 450 per second \(450 rps\) is above the ceiling of 320 rps/,
        );
        // Far above any ceiling: only the limit's own problem is said.
        assert.deepEqual(problems({ path: undefined, pathRegex: "(?=x)", requestsPerUnit: 100000 }), [
            `bff-platform:rateLimits.global.limits[watch].pathRegex: "(?=x)" is not an RE2 regular expression (Envoy's safe_regex): invalid perl operator: (?=`,
        ]);
        assert.deepEqual(problems({ path: undefined, pathRegex: undefined, requestsPerUnit: 100000 }), [
            "bff-platform:rateLimits.global.limits[watch]: set exactly one of path and pathRegex",
        ]);
    });
});

describe("config global limit regexes that can never match", () => {
    const never = (first: string, hint = "") =>
        `can never match a request path: Envoy matches it against the whole :path, which starts with "/", and every match of this regex starts with ${first}${hint}`;

    it("reads the first literal of every alternative, through groups and an anchor", () => {
        assert.equal(pathRegexProblem("watch/.*"), never('"w"', ' (did you mean "/watch/.*"?)'));
        assert.equal(pathRegexProblem("^watch/.*"), never('"w"', ' (did you mean "/watch/.*"?)'));
        assert.equal(pathRegexProblem("ab|cd|ef"), never('"a" or "c" or "e"'));
        assert.equal(pathRegexProblem("(watch|live)/.*"), never('"w" or "l"', ' (did you mean "/(watch|live)/.*"?)'));
        assert.equal(pathRegexProblem("^(?:watch)/x"), never('"w"', ' (did you mean "/(?:watch)/x"?)'));
        assert.equal(pathRegexProblem("((wa)b|c)d"), never('"w" or "c"', ' (did you mean "/((wa)b|c)d"?)'));
        assert.equal(pathRegexProblem("(a[)]b|c)d"), never('"a" or "c"', ' (did you mean "/(a[)]b|c)d"?)'));
    });

    it("skips character classes and escapes when it splits alternatives", () => {
        // One alternative each: the "|" and "]" are inside a class, or escaped.
        assert.equal(pathRegexProblem("x[a|]y"), never('"x"', ' (did you mean "/x[a|]y"?)'));
        assert.equal(pathRegexProblem("x[\\]|]y"), never('"x"', ` (did you mean ${JSON.stringify("/x[\\]|]y")}?)`));
        assert.equal(pathRegexProblem("x\\|y"), never('"x"', ` (did you mean ${JSON.stringify("/x\\|y")}?)`));
    });

    it("says nothing where a match may start with '/' or the start cannot be told", () => {
        for (const regex of [
            "/watch/.*",
            "(/watch|/live)/.*",
            "watch|/live",
            ".*\\.json",
            "(?i)watch",
            "(watch)?/x",
            "(watch/x",
            "[w]atch",
        ]) {
            assert.equal(pathRegexProblem(regex), undefined, regex);
        }
    });
});
