/**
 * One test per class of configuration mistake, each with several mistakes in one stack file: every
 * problem is reported in one run, at its key path, with the value that was judged.
 */
import assert from "node:assert/strict";
import { AWS_CONFIG_KEYS, cronProblems, KUBERNETES_CONFIG_KEYS, parseStackConfig } from "../components/config";
import { configProblems, editConfig, stackFile } from "./support/program";

const production = () => stackFile("production").configMap;

describe("configuration mistakes, class by class", () => {
    it("reports every problem in one run: a wrong type stops only the rules of its own entry", () => {
        let configMap = editConfig(production(), "services", (services) => {
            services[0].hpa.maxReplicas = "20";
            services[2].hpa.minReplicas = 50;
            services[3].rateLimit = { local: { type: "nginx", requestsPerSecond: 2, burst: 5 } };
            services[5].routes = [{ host: "pc", pathPrefix: "/" }];
            return services;
        });
        configMap = editConfig(configMap, "nodePools", (pools) => {
            pools[2].minSize = "one";
            return pools;
        });
        configMap = editConfig(configMap, "rateLimits", (limits) => {
            limits.global.limits.push({ name: "bad-regex", pathRegex: "/x/(?=y)", unit: "second", requestsPerUnit: 1 });
            limits.global.limits.push({ name: "many", path: "/ranking", unit: "second", requestsPerUnit: "many" });
            limits.global.limits.push({
                name: "watch-again",
                pathRegex: limits.global.limits[0].pathRegex,
                unit: "second",
                requestsPerUnit: 1,
            });
            return limits;
        });
        assert.deepEqual(configProblems(configMap), [
            'bff-platform:nodePools[system].minSize: must be a number, got string "one"',
            'bff-platform:services[pc-web].hpa.maxReplicas: must be a number, got string "20"',
            "bff-platform:services[sp-web].hpa.minReplicas: 50 is above maxReplicas 20",
            "bff-platform:services[pc-watch].rateLimit.local.requestsPerSecond: local limit 2 rps per pod is not above the HPA trigger of 6 rps per pod: requests would be rejected before the autoscaler adds pods",
            `bff-platform:rateLimits.global.limits[bad-regex].pathRegex: "/x/(?=y)" is not an RE2 regular expression (Envoy's safe_regex): invalid perl operator: (?=`,
            'bff-platform:rateLimits.global.limits[many].requestsPerUnit: must be a number, got string "many"',
            "bff-platform:services[pc-timeshift].routes[0].pathPrefix: / on host pc is already routed to pc-web",
            "bff-platform:rateLimits.global.limits[watch-again].pathRegex: limits the same requests (regex /watch/(lv\\d+)) as limit watch: envoyproxy/ratelimit refuses a duplicate descriptor, and two counters for one path would each let the full rate through",
        ]);
    });

    it("says a misspelt key once, without follow-on errors, and names entries and values", () => {
        const { ["bff-platform:gateways"]: gateways, ["aws:region"]: region, ["bff-platform:services"]: services, ...rest } = production();
        assert.deepEqual(
            configProblems({ ...rest, "bff-platform:gatewy": gateways, "aws:regoin": region, "bff-platfrom:services": services }),
            [
                'aws:regoin: unknown key of the aws namespace (the aws provider reads no such key); did you mean "aws:region"?',
                'bff-platfrom:services: unknown config namespace "bff-platfrom"; did you mean "bff-platform:services"? known namespaces: bff-platform, aws, kubernetes, random, pulumi',
                'bff-platform:gatewy: unknown key; did you mean "gateways"? allowed keys: environment, environmentOverride, appNamespace, timeZone, cluster, nodePools, hosts, gateways, services, rateLimits, backends, delivery, addons',
            ],
        );
        const nested = editConfig(production(), "cluster", ({ name, ...cluster }) => ({ ...cluster, nme: name }));
        assert.deepEqual(configProblems(nested), [
            'bff-platform:cluster.nme: unknown key; did you mean "name"? allowed keys: name, kubernetesVersion, vpcId, privateSubnetIds, endpointPublicAccess, publicAccessCidrs, adminRoleArns, logTypes, deployerCidrs, deployerSecurityGroupIds',
        ]);
        const emptyPools = editConfig(production(), "nodePools", () => []);
        assert.deepEqual(configProblems(emptyPools), ["bff-platform:nodePools: must have at least 1 item, got 0"]);
        const weights = editConfig(production(), "services", (list) => {
            list[2].canary = { steps: [{ setWeight: 20 }, { setWeight: 120 }] };
            list[3].canary = { steps: [{ setWeight: 20 }, { pause: 60 }] };
            list[12].jobs[1].name = "Purge";
            return list;
        });
        assert.deepEqual(configProblems(weights), [
            "bff-platform:services[sp-web].canary.steps[1].setWeight: 120 is out of range 0..100",
            "bff-platform:services[pc-watch].canary.steps[0].setWeight: 20 is the last weight: the steps must end with setWeight 100, or the rollout never completes",
            `bff-platform:services[account-web].jobs[1].name: "Purge" has characters or a shape Kubernetes rejects (allowed: lowercase letters, digits and '-', starting and ending with a letter or digit)`,
        ]);
    });

    it("refuses names derived from config that would name one object twice, naming both keys", () => {
        let configMap = editConfig(production(), "gateways", (gateways) => {
            gateways[0].namespace = "frontend";
            gateways[0].hosts.push("pc2");
            return gateways;
        });
        configMap = editConfig(configMap, "hosts", (hosts) => [...hosts, { name: "pc2", hostname: "pc-example.com" }]);
        configMap = editConfig(configMap, "services", (services) => {
            services[7].name = "pc-web-canary";
            services[8].name = "frontend-apps";
            services[9].name = "account";
            services[9].jobs = [{ name: "web-purge-sessions", schedule: "0 3 * * *", command: ["purge"] }];
            return services;
        });
        assert.deepEqual(configProblems(configMap), [
            'bff-platform:services[7].name: "pc-web-canary" gives the Service of service pc-web-canary the name of the canary Service of service pc-web from services[0].name "pc-web": Service "pc-web-canary" in namespace frontend, DestinationRule "pc-web-canary" in namespace frontend; Kubernetes and Pulumi would see one object, so rename one of them',
            'bff-platform:services[account-web].jobs[1].name: "purge-sessions" gives the CronJob of service account-web the name of the CronJob of service account from services[account].jobs[0].name "web-purge-sessions": CronJob "account-web-purge-sessions" in namespace frontend; Kubernetes and Pulumi would see one object, so rename one of them',
            'bff-platform:hosts[pc2].hostname: "pc-example.com" gives the Gateway of host pc2 the name of the Gateway of host pc from hosts[pc].hostname "pc.example.com": Gateway "pc-example-com" in namespace frontend, Certificate "pc-example-com" in namespace frontend; Kubernetes and Pulumi would see one object, so rename one of them',
            'bff-platform:gateways[istio-ingressgateway].namespace: "frontend" gives the gateway namespace the name of the app namespace from appNamespace "frontend": Namespace "frontend"; Kubernetes and Pulumi would see one object, so rename one of them',
            'bff-platform:services[8].name: "frontend-apps" gives the Application and manifests directory of service frontend-apps the name of the root Application (reserved by the platform): Application "frontend-apps" in namespace argocd; Kubernetes and Pulumi would see one object, so rename one of them',
        ]);
        const reserved = editConfig(production(), "services", (services) => {
            services[2].name = "host-routes";
            return services;
        });
        assert.deepEqual(configProblems(reserved), [
            `bff-platform:services[2].name: "host-routes" is reserved for the platform's own app directory (reserved: host-routes, applications)`,
        ]);
        const rateLimitInApp = editConfig(production(), "rateLimits", (limits) => {
            limits.global.namespace = "frontend";
            return limits;
        });
        assert.deepEqual(configProblems(rateLimitInApp), [
            'bff-platform:rateLimits.global.namespace: "frontend" gives the rate limit namespace (istio-injection disabled) the name of the app namespace from appNamespace "frontend": Namespace "frontend"; Kubernetes and Pulumi would see one object, so rename one of them',
        ]);
    });

    it("judges each value the way Kubernetes, AWS, cron and RE2 will", () => {
        let configMap = editConfig(production(), "services", (services) => {
            services[0].resources.limits.memory = "512m";
            services[0].port = 8079;
            services[1].port = 15020;
            services[2].hpa.external = { metricName: "rps", targetAverageValue: "20 rps" };
            services[12].jobs[1].schedule = "0 25 * * 7";
            return services;
        });
        configMap = editConfig(configMap, "gateways", (gateways) => {
            gateways[0].resources = { nginx: { requests: { cpu: "2", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } } };
            return gateways;
        });
        configMap = editConfig(configMap, "cluster", (cluster) => {
            cluster.privateSubnetIds.push(cluster.privateSubnetIds[0]);
            return cluster;
        });
        configMap = editConfig(configMap, "nodePools", (pools) => {
            pools[0].name = "gateway-c6i-xlarge-on-demand";
            return pools;
        });
        configMap = editConfig(configMap, "rateLimits", (limits) => {
            limits.global.limits[0].pathRegex = "watch/(lv\\d+)";
            return limits;
        });
        assert.deepEqual(configProblems(configMap), [
            'bff-platform:cluster.privateSubnetIds[3]: "subnet-0a1b2c3d4e5f60001" is already listed at privateSubnetIds[0]',
            "bff-platform:gateways[istio-ingressgateway].resources.nginx.requests.cpu: 2 is above limits.cpu 1",
            'bff-platform:services[pc-web].resources.limits.memory: "512m" is not a whole number of bytes (the suffix m means thousandths; did you mean "512Mi"?; e.g. 512Mi, 1Gi)',
            "bff-platform:services[pc-web].port: 8079 is the listen port of the nginx rate-limiter sidecar (rateLimit.local.type nginx): pick another port",
            "bff-platform:services[pc-web-v2].port: 15020 is in 15000-15090, the ports istio-proxy listens on in every pod (admin, inbound, outbound, health, metrics)",
            'bff-platform:services[sp-web].hpa.external.targetAverageValue: "20 rps" is not a Kubernetes quantity (examples: 250m, 1, 1.5, 512Mi, 2Gi, 1G)',
            'bff-platform:services[account-web].jobs[purge-sessions].schedule: "0 25 * * 7" hour field 25 is outside 0-23; day of week field 7 is outside 0-6',
            'bff-platform:rateLimits.global.limits[watch].pathRegex: "watch/(lv\\\\d+)" can never match a request path: Envoy matches it against the whole :path, which starts with "/", and every match of this regex starts with "w" (did you mean "/watch/(lv\\\\d+)"?)',
            `bff-platform:nodePools[0].name: the node group name prefix "frontend-production-gateway-c6i-xlarge-on-demand-" (cluster.name, the pool name and two '-') is 49 characters long, more than the 37 AWS allows (63 minus the provider's 26-character unique suffix): shorten the pool name or cluster.name`,
        ]);
    });

    it("parses cron schedules field by field as Kubernetes does", () => {
        assert.deepEqual(cronProblems("*/5 * * * *"), []);
        assert.deepEqual(cronProblems("0 4 1-15/2 JAN-mar sun,SAT"), []);
        assert.deepEqual(cronProblems("@daily"), []);
        assert.deepEqual(cronProblems("60 * 0 13 *"), [
            "minute field 60 is outside 0-59",
            "day of month field 0 is outside 1-31",
            "month field 13 is outside 1-12",
        ]);
        assert.deepEqual(cronProblems("* * * * mon-sun"), ['day of week field "mon-sun" starts after it ends']);
        assert.deepEqual(cronProblems("*/0 * * * * *"), [
            'has 6 fields; a CronJob schedule has 5: minute hour day-of-month month day-of-week (e.g. "*/5 * * * *")',
        ]);
        assert.deepEqual(cronProblems("TZ=Asia/Tokyo 0 4 * * *"), [
            "sets a time zone inside the schedule, which Kubernetes refuses (spec.timeZone is the field for it)",
        ]);
        assert.deepEqual(cronProblems("@fortnightly"), [
            '"@fortnightly" is not a schedule macro Kubernetes documents (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)',
        ]);
    });

    it("takes secrets only where a secret belongs, and no credential in the repository URL", () => {
        const configMap = editConfig(production(), "delivery", (delivery) => {
            delivery.repoURL = "https://bot:ghp_abc@github.com/example/frontend.git";
            return delivery;
        });
        // Offline the stack-file reader knows each secure value's path.
        assert.deepEqual(
            configProblems(configMap, "production", {
                secretKeys: ["bff-platform:services", "bff-platform:cluster"],
                secretPaths: ["bff-platform:services[0].env.API_KEY", "bff-platform:cluster.vpcId"],
            }),
            [
                "bff-platform:delivery.repoURL: carries a credential (https://***@github.com/example/frontend.git): it would be written in plain text into every Argo CD Application; give Argo CD the repository credentials through its repository Secret and write the URL without them",
                "bff-platform:cluster.vpcId: is a secret (secure:) but takes none: its plain value would end up in resource inputs and rendered files; fields that take a secret: addons.argocd.repoCredentials.password, addons.datadog.apiKey, addons.datadog.appKey",
                "bff-platform:services[pc-web].env.API_KEY: is a secret (secure:) but takes none: its plain value would end up in the service's ConfigMap, in plain text in the cluster and in the Argo CD repository; fields that take a secret: addons.argocd.repoCredentials.password, addons.datadog.apiKey, addons.datadog.appKey",
            ],
        );
        // The engine only says which top-level keys hold a secret; provider keys are the providers'.
        assert.deepEqual(
            configProblems(production(), "production", { secretKeys: ["bff-platform:services", "bff-platform:delivery", "aws:secretKey"] }),
            [
                "bff-platform:delivery: holds a secret (secure:) value, but no field of delivery takes a secret: its plain value would end up in every Argo CD Application; fields that take a secret: addons.argocd.repoCredentials.password, addons.datadog.apiKey, addons.datadog.appKey",
                "bff-platform:services: holds a secret (secure:) value, but no field of services takes a secret: its plain value would end up in the service's rendered objects in the Argo CD repository (a secure env value lands in its ConfigMap); fields that take a secret: addons.argocd.repoCredentials.password, addons.datadog.apiKey, addons.datadog.appKey",
            ],
        );
        const ssh = editConfig(production(), "delivery", (delivery) => {
            delivery.repoURL = "ssh://git@github.com/example/frontend.git";
            return delivery;
        });
        assert.doesNotThrow(() => parseStackConfig(ssh, "production"), "an ssh user name is no credential");
    });

    it("reports unknown namespaces and provider keys, and a configuration without the project's keys", () => {
        assert.deepEqual(configProblems({ "aws:region": "ap-northeast-1", "kubernetes:namespace": "apps", "random:seed": "1" }, "qa"), [
            "random:seed: unknown key of the random namespace (the random provider reads no such key)",
            "bff-platform: the configuration has no bff-platform: keys; a stack needs at least bff-platform:environment, bff-platform:cluster, bff-platform:nodePools, bff-platform:hosts, bff-platform:services, bff-platform:delivery (see the configuration reference in README.md)",
        ]);
        assert.deepEqual(configProblems({ ...production(), "kubernetes:enableServerSideAply": "true", "aws:profile": "frontend" }), [
            'kubernetes:enableServerSideAply: unknown key of the kubernetes namespace (the kubernetes provider reads no such key); did you mean "kubernetes:enableServerSideApply"?',
        ]);
    });

    it("knows the keys the pinned providers read", () => {
        const awsVars = Object.keys(require("@pulumi/aws/config/vars")).sort();
        assert.deepEqual([...AWS_CONFIG_KEYS].sort(), awsVars);
        // The Kubernetes provider reads its ProviderArgs from `kubernetes:` config.
        const source: string = require("fs").readFileSync(require.resolve("@pulumi/kubernetes/provider.d.ts"), "utf8");
        const args = source.slice(source.indexOf("export interface ProviderArgs"));
        const keys = [...args.matchAll(/^ {4}([a-zA-Z]+)\??:/gm)].map((m) => m[1]).sort();
        assert.deepEqual([...KUBERNETES_CONFIG_KEYS].sort(), keys);
    });

    it("requires the stack name and environment to agree, or an override that says why", () => {
        const dev = stackFile("dev").configMap;
        assert.deepEqual(configProblems(dev, "qa"), [
            `bff-platform:environment: "dev" is not the name of this stack, "qa": a stack file copied from another stack would deploy into that environment's cluster, hosts and GitOps directory. Set environment: qa (with its own cluster.name, hosts and delivery), or, if this stack deploys environment "dev" on purpose, set environmentOverride: {reason: "<why>"}`,
        ]);
        const override = (reason: string) => ({ ...production(), "bff-platform:environmentOverride": JSON.stringify({ reason }) });
        assert.deepEqual(configProblems(override("twin"), "production-green"), [
            'bff-platform:environmentOverride.reason: "twin" is 4 characters long, shorter than the 10 required (must say why the stack name and environment differ)',
        ]);
        assert.deepEqual(configProblems(override("blue/green twin of production"), "production"), [
            'bff-platform:environmentOverride: is set, but the stack "production" and its environment agree: remove it',
        ]);
        const { config } = parseStackConfig(override("blue/green twin of production during the 1.34 upgrade"), "production-green");
        assert.equal(config.environment, "production");
    });
});
