/**
 * The ingress gateway component under the mock runtime, in both deployment modes: what it
 * registers, through which provider, and that every object (the IstioOperator and the pod parts its
 * overlays patch in included) is valid against the upstream schemas.
 */
import assert from "node:assert/strict";
import { GATEWAY_DEFAULTS, hostGatewayName, parseStackConfig } from "../components/config";
import {
    CONTAINERS,
    durationSeconds,
    fluentBitResources,
    gatewayVersion,
    mirrorTarget,
    POD_LAYOUT,
    renderFluentBitConf,
    renderIngressGateway,
    SERVICE_PORTS,
    tlsSecretName,
} from "../components/ingress-gateway";
import { CONTENT_HASH_ANNOTATION, contentHash } from "../components/shared";
import { RegisteredResource, RunResult } from "../cli/mock-runtime";
import { KubeObject, kubernetesObjects, workloadFigures } from "../cli/render";
import { editConfig, oncePerRun, run, runStack, runStackFresh, stackFile } from "./support/program";
import { KubeObjectLike, validateKubeObject } from "./support/schemas";

const GATEWAY_TYPE = "bff-platform:gateway:IngressGateway";

/** Kubernetes objects registered under the IngressGateway components (and the cert-manager install). */
function gatewayObjects(result: RunResult): KubeObject[] {
    const components = new Set(result.resources.filter((r) => r.type === GATEWAY_TYPE).map((r) => r.urn));
    return kubernetesObjects(result.resources.filter((r) => r.parent !== undefined && components.has(r.parent)));
}

function one(objects: KubeObject[], kind: string, name?: string): KubeObject & Record<string, any> {
    const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
    assert.equal(found.length, 1, `expected one ${kind} ${name ?? ""}, found ${found.length}`);
    return found[0] as KubeObject & Record<string, any>;
}

function resourceOf(result: RunResult, kind: string, name: string): RegisteredResource {
    const found = result.resources.filter((r) => r.inputs.kind === kind && (r.inputs.metadata as { name: string }).name === name);
    assert.equal(found.length, 1, `${kind} ${name}`);
    return found[0];
}

/** The provider resource a registration goes through. */
function providerOf(result: RunResult, resource: RegisteredResource): RegisteredResource {
    const urn = (resource.provider ?? "").split("::").slice(0, -1).join("::");
    const provider = result.resources.find((r) => r.urn === urn);
    assert.ok(provider, `no provider for ${resource.urn}`);
    return provider;
}

async function schemaProblems(objects: KubeObjectLike[]): Promise<string[]> {
    assert.ok(objects.length > 0, "no object to validate");
    const problems: string[] = [];
    for (const object of objects) {
        problems.push(...(await validateKubeObject(object)).map((p) => `${object.kind} ${object.metadata.name}: ${p}`));
    }
    return problems;
}

/** The production stack with its gateway edited. */
function productionWith(edit: (gateway: Record<string, any>) => void): Record<string, string> {
    return editConfig(stackFile("production").configMap, "gateways", (gateways: Record<string, any>[]) => {
        edit(gateways[0]);
        return gateways;
    });
}

describe("ingress gateway component (mocks)", () => {
    describe("gatewayInjection mode (production stack)", () => {
        let result: RunResult;
        let objects: KubeObject[];
        const productionRun = oncePerRun(() => runStack("production"));
        beforeEach(async () => {
            result = await productionRun();
            objects = gatewayObjects(result);
        });

        it("registers the gateway's objects under one IngressGateway component", () => {
            assert.deepEqual(objects.map((o) => `${o.kind} ${o.metadata.name}`).sort(), [
                "Certificate pc-example-com",
                "Certificate sp-example-com",
                "ClusterIssuer istio-ingressgateway-issuer",
                "ConfigMap istio-ingressgateway-error-pages",
                "ConfigMap istio-ingressgateway-fluent-bit",
                "ConfigMap istio-ingressgateway-nginx",
                "Deployment istio-ingressgateway",
                "Gateway pc-example-com",
                "Gateway sp-example-com",
                "HorizontalPodAutoscaler istio-ingressgateway",
                "PodDisruptionBudget istio-ingressgateway",
                "Role istio-ingressgateway",
                "RoleBinding istio-ingressgateway",
                "Service istio-ingressgateway",
                "ServiceAccount istio-ingressgateway",
            ]);
        });

        it("validates every object against the upstream schemas, with no unknown field", async () => {
            assert.deepEqual(await schemaProblems(objects), []);
        });

        it("puts recommended labels on every object and pod, and explicit names", () => {
            assert.equal(objects.length, 15, "the gateway's 15 objects");
            for (const object of objects) {
                const labels = object.metadata.labels ?? {};
                assert.equal(labels["app.kubernetes.io/name"], "istio-ingressgateway", `${object.kind} ${object.metadata.name}`);
                assert.equal(labels["app.kubernetes.io/component"], "gateway");
                assert.equal(labels["app.kubernetes.io/managed-by"], "pulumi");
                assert.equal(labels["app.kubernetes.io/part-of"], "frontend");
            }
            const podLabels = one(objects, "Deployment").spec.template.metadata.labels;
            assert.equal(podLabels["app.kubernetes.io/name"], "istio-ingressgateway");
            assert.equal(podLabels.app, "istio-ingressgateway");
        });

        it("asks istiod for the gateway injection template: istio-proxy with image auto and resources on the container", () => {
            const template = one(objects, "Deployment").spec.template;
            assert.equal(template.metadata.labels["sidecar.istio.io/inject"], "true");
            assert.equal(template.metadata.annotations["inject.istio.io/templates"], "gateway");
            // The gateway template neither sets resources nor reads sidecar.istio.io/proxyCPU*: the
            // container carries them, as Istio's gateway chart does, or the HPA has no requests to divide by.
            assert.deepEqual(template.spec.containers[0], {
                name: "istio-proxy",
                image: "auto",
                resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "2", memory: "1Gi" } },
                // As Istio's gateway chart runs it: uid 1337, read-only, no capabilities.
                securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    runAsNonRoot: true,
                    runAsUser: 1337,
                    runAsGroup: 1337,
                    capabilities: { drop: ["ALL"] },
                },
            });
            assert.deepEqual(
                Object.keys(template.metadata.annotations).filter((k) => k.startsWith("sidecar.istio.io/proxy")),
                [],
                "no annotation the gateway template ignores",
            );
            assert.deepEqual(
                template.spec.containers.map((c: { name: string }) => c.name),
                [CONTAINERS.proxy, CONTAINERS.nginx],
            );
            assert.deepEqual(
                template.spec.initContainers.map((c: { name: string; restartPolicy?: string }) => `${c.name} ${c.restartPolicy ?? "-"}`),
                [`${CONTAINERS.logDirOwner} -`, `${CONTAINERS.fluentBit} Always`],
                "fluent-bit is a native sidecar, started after the chown",
            );
            assert.equal(template.spec.serviceAccountName, "istio-ingressgateway");
        });

        it("lets istio-proxy read TLS Secrets of its namespace (SDS) and nothing else", () => {
            assert.deepEqual(one(objects, "Role").rules, [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "watch", "list"] }]);
            const binding = one(objects, "RoleBinding");
            assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "istio-ingressgateway", namespace: "frontend-gateway" }]);
            assert.equal(binding.roleRef.name, "istio-ingressgateway");
        });

        it("runs no privileged container and no root process except the one-shot chown of the log directory", () => {
            const spec = one(objects, "Deployment").spec.template.spec;
            const own = [...spec.containers.slice(1), ...spec.initContainers];
            assert.deepEqual(
                own.map((c: { name: string }) => c.name),
                // fluent-bit is a native sidecar: an init container that keeps running.
                ["sidecar-nginx", "log-dir-owner", "sidecar-fluent-bit"],
            );
            for (const container of own) {
                const security = container.securityContext;
                assert.notEqual(security.privileged, true, container.name);
                assert.equal(security.allowPrivilegeEscalation, false, container.name);
                assert.equal(security.readOnlyRootFilesystem, true, container.name);
                if (container.name === CONTAINERS.logDirOwner) {
                    assert.equal(security.runAsUser, 0);
                    assert.deepEqual(security.capabilities, { drop: ["ALL"], add: ["CHOWN"] });
                    assert.deepEqual(container.command, ["chown", "-R", "10101:10101", "/var/log/gateway-access"]);
                } else {
                    assert.equal(security.runAsNonRoot, true, container.name);
                    assert.equal(security.runAsUser, 10101, container.name);
                    assert.equal(security.runAsGroup, 10101, container.name);
                    assert.deepEqual(security.capabilities, { drop: ["ALL"] });
                }
            }
            // istio-proxy as Istio's gateway chart runs it: the injection template sets no securityContext.
            assert.deepEqual(spec.containers[0].securityContext, {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                runAsUser: 1337,
                runAsGroup: 1337,
                capabilities: { drop: ["ALL"] },
            });
            const hostPaths = spec.volumes.filter((v: { hostPath?: unknown }) => v.hostPath !== undefined);
            assert.deepEqual(hostPaths, [
                { name: "log-output-volume", hostPath: { path: "/var/log/istio-ingressgateway", type: "DirectoryOrCreate" } },
            ]);
            assert.deepEqual(spec.securityContext, {
                runAsNonRoot: true,
                runAsUser: 10101,
                runAsGroup: 10101,
                fsGroup: 10101,
                seccompProfile: { type: "RuntimeDefault" },
            });
        });

        it("mounts no API token in the gateway pods: istio-proxy brings its own projected istio-token", () => {
            assert.equal(one(objects, "Deployment").spec.template.spec.automountServiceAccountToken, false);
            assert.equal(one(objects, "ServiceAccount").automountServiceAccountToken, false);
        });

        it("sends the access log over loopback UDP (no shared socket), and mounts the generated files and fluent-bit's buffer", () => {
            const spec = one(objects, "Deployment").spec.template.spec;
            const container = (name: string) =>
                [...spec.containers, ...spec.initContainers].find((c: { name: string }) => c.name === name) as Record<string, any>;
            const mounts = (name: string) =>
                Object.fromEntries(container(name).volumeMounts.map((m: { name: string; mountPath: string }) => [m.name, m.mountPath]));
            assert.deepEqual(mounts(CONTAINERS.nginx), {
                "sidecar-nginx-conf": "/etc/nginx",
                "sidecar-nginx-error-page": "/usr/share/nginx/errors",
                "cache-volume": "/var/cache/nginx",
                "pid-volume": "/var/run/nginx",
                "tls-pc": "/etc/nginx-tls/pc",
                "tls-sp": "/etc/nginx-tls/sp",
            });
            assert.deepEqual(mounts(CONTAINERS.fluentBit), {
                "sidecar-fluent-bit": "/fluent-bit/etc",
                "sidecar-fluent-bit-storage": "/var/lib/fluent-bit",
                "log-output-volume": "/var/log/gateway-access",
            });
            assert.deepEqual(spec.volumes.find((v: { name: string }) => v.name === "sidecar-fluent-bit-storage").emptyDir, {
                medium: "Memory",
                sizeLimit: "64Mi",
            });
            const nginxConf = one(objects, "ConfigMap", "istio-ingressgateway-nginx").data["nginx.conf"];
            assert.match(nginxConf, /access_log syslog:server=127\.0\.0\.1:5140,nohostname,tag=nginx json_access_format;/);
            const fluentBit = container(CONTAINERS.fluentBit);
            assert.equal(fluentBit.image, GATEWAY_DEFAULTS.fluentBitImage);
            // Tag only while its digest is pending (components/config DIGEST_PENDING).
            assert.equal(fluentBit.image, "fluent/fluent-bit:4.0.3");
            assert.deepEqual(fluentBit.env, [
                { name: "TZ", value: "Asia/Tokyo" },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            ]);
            assert.equal(fluentBit.startupProbe.httpGet.path, "/", "nginx starts once fluent-bit listens");
            assert.equal(fluentBit.readinessProbe.httpGet.path, "/api/v1/metrics/prometheus");
            assert.equal(fluentBit.livenessProbe.httpGet.path, "/");
            assert.equal(
                container(CONTAINERS.nginx).image,
                "nginx:1.28.0-alpine@sha256:30f1c0d78e0ad60901648be663a710bdadf19e4c10ac6782c235200619158284",
            );
        });

        it("sizes fluent-bit from the rated load: CPU requested, never limited (throttling lost records); memory = engine + tmpfs buffer", () => {
            const fluentBitOf = (objs: KubeObject[]) =>
                (one(objs, "Deployment").spec.template.spec.initContainers as { name: string; resources: unknown }[]).find(
                    (c) => c.name === CONTAINERS.fluentBit,
                );
            assert.deepEqual(fluentBitOf(objects)?.resources, { requests: { cpu: "150m", memory: "192Mi" }, limits: { memory: "192Mi" } });
            const rated = parseStackConfig(
                productionWith((g) => (g.ratedRequestsPerSecond = 3000)),
                "production",
            ).config.gateways[0];
            const config = parseStackConfig(
                productionWith(() => undefined),
                "production",
            ).config;
            const rendered = renderIngressGateway(rated, { hosts: config.hosts });
            assert.deepEqual(rendered.pod.initContainers.find((c) => c.name === CONTAINERS.fluentBit)?.resources, {
                requests: { cpu: "450m", memory: "304Mi" },
                limits: { memory: "304Mi" },
            });
            const conf = rendered.configMaps.find((c) => c.metadata.name === "istio-ingressgateway-fluent-bit")?.data as Record<
                string,
                string
            >;
            assert.match(conf["fluent-bit.conf"], /^ {4}Receive_Buffer_Size 720896$/m, "0.1 s of 3000 records/s at 2400 bytes each");
            assert.deepEqual(
                rendered.pod.volumes.find((v) => v.name === "sidecar-fluent-bit-storage"),
                { name: "sidecar-fluent-bit-storage", emptyDir: { medium: "Memory", sizeLimit: "176Mi" } },
                "60 s of 3000 records/s at 1 KiB, in steps of 16 MiB",
            );
        });

        it("keeps every record inside fluent-bit: filesystem buffers that never pause, nginx's JSON alone, a pod's own files", () => {
            const conf = one(objects, "ConfigMap", "istio-ingressgateway-fluent-bit").data["fluent-bit.conf"] as string;
            const section = (name: string) => {
                const found = conf.split(/\n(?=\[)/).find((block) => new RegExp(`^\\[[A-Z]+\\]\\n\\s+Name\\s+${name}\\n`).test(block));
                assert.ok(found, `section ${name}`);
                return Object.fromEntries(
                    found
                        .trim()
                        .split("\n")
                        .slice(1)
                        .map((line) => line.trim().split(/\s+(.*)/s, 2)),
                );
            };
            const service = Object.fromEntries(
                conf
                    .split("\n[INPUT]")[0]
                    .split("\n")
                    .slice(1)
                    .filter((l) => l.trim() !== "")
                    .map((line) => line.trim().split(/\s+(.*)/s, 2)),
            );
            assert.equal(service["storage.path"], "/var/lib/fluent-bit/storage", "on the storage emptyDir");
            assert.equal(service["storage.max_chunks_up"], "16");
            assert.equal(service.Grace, "30");
            const input = section("syslog");
            assert.deepEqual(
                [input.Mode, input.Listen, input.Port, input.Receive_Buffer_Size, input["storage.type"], input.Tag],
                ["udp", "127.0.0.1", "5140", "240640", "filesystem", "nginx.access"],
            );
            assert.equal(input.Mem_Buf_Limit, undefined, "never paused for memory");
            const parser = section("parser");
            assert.deepEqual(
                [parser.Key_Name, parser.Parser, parser.Reserve_Data, parser.Preserve_Key],
                ["message", "nginx-json", "Off", "Off"],
            );
            const rewrite = section("rewrite_tag");
            assert.equal(rewrite["Emitter_Storage.type"], "filesystem", "the emitter never pauses, so rewrite_tag never drops");
            assert.equal(rewrite.Emitter_Mem_Buf_Limit, undefined);
            assert.match(
                conf,
                /Rule +\$time \^\(\[0-9\]\[0-9\]\[0-9\]\[0-9\]\)-\(\[0-9\]\[0-9\]\)-\(\[0-9\]\[0-9\]\)T \$1-\$2\$3\/\$\{POD_NAME\}-access\.log false/,
            );
            const parsers = one(objects, "ConfigMap", "istio-ingressgateway-fluent-bit").data["parsers.conf"] as string;
            assert.match(
                parsers,
                /Name +nginx-json\n +Format +json\n +Time_Key +time\n +Time_Format +%Y-%m-%dT%H:%M:%S%z\n +Time_Keep +On/,
            );
            assert.doesNotMatch(parsers.split("nginx-json")[0], /Time_Key/, "the syslog header's time is never the record's");
        });

        it("shuts down in order: nginx drains, istio-proxy outlives it, fluent-bit reads until both exited, within the grace period", () => {
            const template = one(objects, "Deployment").spec.template;
            const nginx = template.spec.containers.find((c: { name: string }) => c.name === CONTAINERS.nginx);
            assert.deepEqual(nginx.lifecycle, { preStop: { sleep: { seconds: 5 } } });
            const nginxConf = one(objects, "ConfigMap", "istio-ingressgateway-nginx").data["nginx.conf"] as string;
            // The longest route timeout of the production services (15 s) + 5 s.
            assert.match(nginxConf, /^worker_shutdown_timeout 20s;$/m);
            // preStop 5 s + nginx's 20 s + 5 s: istio-proxy forwards until nginx has exited.
            assert.equal(template.metadata.annotations["proxy.istio.io/config"], "terminationDrainDuration: 30s\n");
            const fluentBit = template.spec.initContainers.find((c: { name: string }) => c.name === CONTAINERS.fluentBit);
            assert.equal(fluentBit.restartPolicy, "Always", "stopped by the kubelet after the main containers");
            assert.equal(fluentBit.lifecycle, undefined);
            // istio-proxy's 30 s + fluent-bit's Grace 30 s + 10 s.
            assert.equal(template.spec.terminationGracePeriodSeconds, 70);
        });

        it("covers a longer route timeout of a service on the gateway's hosts", async () => {
            const longer = editConfig(stackFile("production").configMap, "services", (services: Record<string, any>[]) => {
                const routed = services.find((s) => Array.isArray(s.routes) && s.routes.length > 0);
                assert.ok(routed, "a production service with routes");
                routed.timeout = "1m";
                return services;
            });
            const objs = gatewayObjects(await run(longer, "up", "production"));
            const template = one(objs, "Deployment").spec.template;
            assert.match(one(objs, "ConfigMap", "istio-ingressgateway-nginx").data["nginx.conf"], /^worker_shutdown_timeout 65s;$/m);
            assert.equal(template.metadata.annotations["proxy.istio.io/config"], "terminationDrainDuration: 75s\n");
            assert.equal(template.spec.terminationGracePeriodSeconds, 115);
        });

        it("rolls the pods when a generated file changes (content hash of the three ConfigMaps)", async () => {
            const configMaps = objects.filter((o) => o.kind === "ConfigMap");
            const expected = contentHash(Object.fromEntries(configMaps.map((c) => [c.metadata.name, (c as Record<string, any>).data])));
            const annotations = one(objects, "Deployment").spec.template.metadata.annotations;
            assert.equal(annotations[CONTENT_HASH_ANNOTATION], expected);
            const changed = gatewayObjects(
                await run(
                    productionWith((g) => (g.accessLog.cookies = ["ab_group"])),
                    "up",
                    "production",
                ),
            );
            assert.notEqual(one(changed, "Deployment").spec.template.metadata.annotations[CONTENT_HASH_ANNOTATION], expected);
        });

        it("places the pods on gateway nodes, tolerating the taint the cluster puts on them, spread over nodes", () => {
            const spec = one(objects, "Deployment").spec.template.spec;
            assert.deepEqual(spec.nodeSelector, { "node-role": "gateway" });
            const group = result.resources.find(
                (r) => r.type === "aws:eks/nodeGroup:NodeGroup" && (r.inputs.labels as Record<string, string>)["node-role"] === "gateway",
            );
            const [taint] = group?.inputs.taints as { key: string; value: string; effect: string }[];
            assert.deepEqual(spec.tolerations, [{ key: taint.key, operator: "Equal", value: taint.value, effect: "NoSchedule" }]);
            assert.equal(taint.effect, "NO_SCHEDULE");
            const term = spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
            assert.equal(term.topologyKey, "kubernetes.io/hostname");
            assert.deepEqual(one(objects, "PodDisruptionBudget").spec.maxUnavailable, 1);
            const hpa = one(objects, "HorizontalPodAutoscaler").spec;
            assert.deepEqual([hpa.minReplicas, hpa.maxReplicas, hpa.scaleTargetRef.name], [3, 6, "istio-ingressgateway"]);
            assert.equal(one(objects, "Deployment").spec.replicas, undefined, "the HPA owns the count");
        });

        it("binds one Gateway per host to the pods, on the ports istio-proxy listens on, which the Service does not expose", () => {
            const podLabels = one(objects, "Deployment").spec.template.metadata.labels;
            const servicePorts = one(objects, "Service").spec.ports.map((p: { port: number }) => p.port);
            for (const [host, hostname] of [
                ["pc", "pc.example.com"],
                ["sp", "sp.example.com"],
            ]) {
                const gateway = one(objects, "Gateway", hostGatewayName(hostname));
                assert.equal(gateway.metadata.namespace, "frontend-gateway");
                for (const [key, value] of Object.entries(gateway.spec.selector as Record<string, string>)) {
                    assert.equal(podLabels[key], value, "the selector matches the gateway pods");
                }
                assert.deepEqual(gateway.spec.servers, [
                    { port: { number: 33000, name: "http", protocol: "HTTP" }, hosts: [hostname], tls: { httpsRedirect: true } },
                    {
                        port: { number: 33443, name: "https", protocol: "HTTPS" },
                        hosts: [hostname],
                        tls: { mode: "SIMPLE", credentialName: `${hostGatewayName(hostname)}-tls` },
                    },
                ]);
                for (const server of gateway.spec.servers) {
                    // A Service port with the same number would make Istio bind its targetPort (nginx's) instead.
                    assert.ok(!servicePorts.includes(server.port.number));
                }
                const certificate = one(objects, "Certificate", hostGatewayName(hostname));
                assert.equal(certificate.spec.secretName, tlsSecretName({ name: host, hostname }));
                assert.deepEqual(certificate.spec.dnsNames, [hostname]);
                assert.deepEqual(certificate.spec.issuerRef, {
                    name: "istio-ingressgateway-issuer",
                    kind: "ClusterIssuer",
                    group: "cert-manager.io",
                });
            }
            assert.deepEqual(
                one(objects, "Service").spec.ports,
                [
                    { name: "http", port: SERVICE_PORTS.http, targetPort: POD_LAYOUT.httpPort, protocol: "TCP" },
                    { name: "https", port: SERVICE_PORTS.https, targetPort: POD_LAYOUT.httpsPort, protocol: "TCP" },
                ],
                "the load balancer reaches nginx first",
            );
        });

        it("issues certificates from the configured ACME account through Route 53, with cert-manager installed once", () => {
            const issuer = one(objects, "ClusterIssuer");
            assert.equal(issuer.spec.acme.email, "frontend-platform@example.com");
            assert.equal(issuer.spec.acme.server, "https://acme-v02.api.letsencrypt.org/directory", "Let's Encrypt production by default");
            assert.deepEqual(issuer.spec.acme.solvers, [
                { dns01: { route53: { region: "ap-northeast-1", hostedZoneID: "Z0123456789ABCDEFGHIJ" } } },
            ]);
            // cert-manager is a cluster add-on (components/addons): one Helm release, pinned.
            const certManagers = result.resources.filter(
                (r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "cert-manager",
            );
            assert.equal(certManagers.length, 1);
            assert.equal(certManagers[0].inputs.version, "v1.21.1");
            const issuerResource = resourceOf(result, "ClusterIssuer", "istio-ingressgateway-issuer");
            assert.ok(issuerResource.dependencies.includes(certManagers[0].urn), "issuers wait for cert-manager's CRDs");
            assert.equal(providerOf(result, issuerResource).name, "frontend-production-k8s", "cluster-scoped: applied to the cluster");
        });

        it("keeps Argo CD's tracking label off the ClusterIssuer and the Secrets cert-manager writes (not in the app's directory)", () => {
            // With label tracking the gateway app would own them, find them missing from git and prune
            // them: certificates re-issued until ACME's rate limits stop it.
            const issuer = one(objects, "ClusterIssuer") as any;
            assert.equal(issuer.metadata.labels["app.kubernetes.io/instance"], undefined);
            assert.equal(issuer.metadata.labels["app.kubernetes.io/name"], "istio-ingressgateway");
            for (const certificate of objects.filter((o) => o.kind === "Certificate") as any[]) {
                assert.equal(certificate.spec.secretTemplate.labels["app.kubernetes.io/instance"], undefined, certificate.metadata.name);
                assert.equal(certificate.spec.secretTemplate.labels["app.kubernetes.io/part-of"], "frontend");
                // The Certificate itself is in the directory: Argo CD tracks it like the rest of the app.
                assert.equal(certificate.metadata.labels["app.kubernetes.io/instance"], "istio-ingressgateway");
            }
        });

        it("delivers the namespaced objects through Argo CD's directory of the gateway", () => {
            for (const [kind, name] of [
                ["Deployment", "istio-ingressgateway"],
                ["Gateway", "pc-example-com"],
                ["Certificate", "sp-example-com"],
            ]) {
                const provider = providerOf(result, resourceOf(result, kind, name));
                assert.equal(
                    provider.inputs.renderYamlToDirectory,
                    "kubernetes/overlays/production/istio-ingressgateway",
                    `${kind} ${name}`,
                );
            }
        });

        it("labels the pods with the gateway's version, for Datadog's kube_app_version and Istio's canonical revision", () => {
            const labels = one(objects, "Deployment").spec.template.metadata.labels;
            assert.match(labels["app.kubernetes.io/version"], /^[0-9a-f]{12}$/);
            assert.equal(labels.version, labels["app.kubernetes.io/version"]);
            // Not in the selector: a new version rolls the pods, it never touches the immutable selector.
            assert.equal(one(objects, "Deployment").spec.selector.matchLabels.version, undefined);
            const gateway = parseStackConfig(stackFile("production").configMap, "production").config.gateways[0];
            assert.equal(gatewayVersion(gateway, "a"), gatewayVersion(gateway, "a"), "deterministic");
            assert.notEqual(gatewayVersion(gateway, "a"), gatewayVersion(gateway, "b"), "changes with the configuration");
            const bigger = {
                ...gateway,
                resources: { ...gateway.resources, nginx: { requests: { cpu: "1", memory: "128Mi" }, limits: { memory: "256Mi" } } },
            };
            assert.notEqual(gatewayVersion(bigger, "a"), gatewayVersion(gateway, "a"), "changes with the resources");
        });

        it("counts istio-proxy once in the resource report (its container's requests)", () => {
            const figures = workloadFigures(kubernetesObjects(result.resources)).find((w) => w.name === "istio-ingressgateway");
            assert.ok(figures);
            assert.equal(figures.nodeRole, "gateway");
            // istio-proxy 500m + nginx 250m + fluent-bit 150m (1000 requests/s rated × 150 µs)
            assert.equal(figures.podRequests.cpuMillis, 900);
            assert.equal(figures.proxyRequests.cpuMillis, 500);
        });
    });

    describe("istioOperator mode", () => {
        let result: RunResult;
        let objects: KubeObject[];
        const operatorRun = oncePerRun(() =>
            run(
                productionWith((g) => (g.mode = "istioOperator")),
                "up",
                "production",
            ),
        );
        beforeEach(async () => {
            result = await operatorRun();
            objects = gatewayObjects(result);
        });

        it("replaces the workload objects with one IstioOperator and keeps the shared objects", () => {
            const kinds = objects.map((o) => o.kind);
            assert.ok(kinds.includes("IstioOperator"));
            for (const absent of ["Deployment", "Service", "Role", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceAccount"]) {
                assert.ok(!kinds.includes(absent), absent);
            }
            assert.equal(objects.filter((o) => o.kind === "ConfigMap").length, 3);
            assert.equal(objects.filter((o) => o.kind === "Gateway").length, 2);
            assert.equal(objects.filter((o) => o.kind === "Certificate").length, 2);
        });

        it("declares the handbook's gateway: profile empty, one ingress gateway with placement, HPA, PDB and Service ports", () => {
            const operator = one(objects, "IstioOperator");
            assert.equal(operator.apiVersion, "install.istio.io/v1alpha1");
            assert.equal(operator.spec.profile, "empty");
            const [gateway] = operator.spec.components.ingressGateways;
            assert.equal(gateway.name, "istio-ingressgateway");
            assert.equal(gateway.enabled, true);
            assert.equal(gateway.label.istio, "istio-ingressgateway", "what the Gateway objects select");
            assert.equal(gateway.label["app.kubernetes.io/name"], undefined, "Istio's chart sets that label itself");
            assert.deepEqual(gateway.k8s.nodeSelector, { "node-role": "gateway" });
            assert.deepEqual([gateway.k8s.hpaSpec.minReplicas, gateway.k8s.hpaSpec.maxReplicas], [3, 6]);
            assert.deepEqual(gateway.k8s.podDisruptionBudget, { maxUnavailable: 1 });
            assert.deepEqual(gateway.k8s.resources, { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "2", memory: "1Gi" } });
            assert.ok(gateway.k8s.podAnnotations[CONTENT_HASH_ANNOTATION]);
            assert.equal(
                gateway.k8s.podAnnotations["proxy.istio.io/config"],
                "terminationDrainDuration: 30s\n",
                "pilot-agent reads it from the pod's annotations",
            );
            assert.deepEqual(
                gateway.k8s.service.ports.map(
                    (p: { name: string; port: number; targetPort: number }) => `${p.name} ${p.port}->${p.targetPort}`,
                ),
                ["status-port 15021->15021", "http 80->8080", "https 443->8443"],
            );
        });

        it("adds the sidecars with overlay patches built from the same definitions as the injection mode, appended with [-1]", () => {
            const operator = one(objects, "IstioOperator");
            const [overlay] = operator.spec.components.ingressGateways[0].k8s.overlays;
            assert.deepEqual([overlay.apiVersion, overlay.kind, overlay.name], ["apps/v1", "Deployment", "istio-ingressgateway"]);
            const config = parseStackConfig(
                productionWith(() => undefined),
                "production",
            ).config;
            const injected = renderIngressGateway({ ...config.gateways[0], mode: "gatewayInjection" }, { hosts: config.hosts });
            const patchesAt = (path: string) =>
                overlay.patches.filter((p: { path: string }) => p.path === path).map((p: { value: unknown }) => p.value);
            assert.deepEqual(patchesAt("spec.template.spec.containers[-1]"), injected.pod.containers);
            assert.deepEqual(patchesAt("spec.template.spec.volumes[-1]"), injected.pod.volumes);
            assert.deepEqual(patchesAt("spec.template.spec.initContainers"), [injected.pod.initContainers]);
            // The pods' version labels, the same value as in injection mode; `\.` is a dot inside the key.
            const version = one(injected.workload, "Deployment").spec.template.metadata.labels.version;
            assert.match(version, /^[0-9a-f]{12}$/);
            assert.deepEqual(patchesAt("spec.template.metadata.labels.version"), [version]);
            assert.deepEqual(patchesAt("spec.template.metadata.labels.app\\.kubernetes\\.io/version"), [version]);
            assert.deepEqual(patchesAt("spec.template.spec.terminationGracePeriodSeconds"), [70]);
            for (const patch of overlay.patches) {
                assert.doesNotMatch(patch.path, /\[\d+\]/, "no hand-kept index into Istio's lists");
            }
        });

        it("validates the IstioOperator and every pod part its patches add against the upstream schemas", async () => {
            const operator = one(objects, "IstioOperator");
            const gateway = operator.spec.components.ingressGateways[0];
            const patches = gateway.k8s.overlays[0].patches as { path: string; value: any }[];
            const valuesAt = (path: string) => patches.filter((p) => p.path === path).map((p) => p.value);
            // The operator's schema leaves spec free-form: validate its Kubernetes parts as the objects they patch.
            const pod: KubeObjectLike = {
                apiVersion: "v1",
                kind: "Pod",
                metadata: { name: "istio-ingressgateway", namespace: "frontend-gateway" },
                spec: {
                    containers: [
                        { name: "istio-proxy", image: "istio/proxyv2", resources: gateway.k8s.resources },
                        ...valuesAt("spec.template.spec.containers[-1]"),
                    ],
                    initContainers: valuesAt("spec.template.spec.initContainers")[0],
                    volumes: valuesAt("spec.template.spec.volumes[-1]"),
                    nodeSelector: gateway.k8s.nodeSelector,
                    tolerations: gateway.k8s.tolerations,
                    affinity: gateway.k8s.affinity,
                    securityContext: gateway.k8s.securityContext,
                },
            };
            const wrap = (apiVersion: string, kind: string, spec: unknown): KubeObjectLike => ({
                apiVersion,
                kind,
                metadata: { name: "x", namespace: "frontend-gateway" },
                spec,
            });
            assert.deepEqual(
                await schemaProblems([
                    ...objects,
                    pod,
                    wrap("autoscaling/v2", "HorizontalPodAutoscaler", gateway.k8s.hpaSpec),
                    wrap("policy/v1", "PodDisruptionBudget", gateway.k8s.podDisruptionBudget),
                    wrap("v1", "Service", gateway.k8s.service),
                    wrap("apps/v1", "Deployment", {
                        selector: { matchLabels: gateway.label },
                        strategy: gateway.k8s.strategy,
                        template: { metadata: { labels: gateway.label }, spec: pod.spec },
                    }),
                ]),
                [],
            );
        });

        it("writes the IstioOperator for istioctl by default, and applies it for an in-cluster operator on request", async () => {
            const operator = resourceOf(result, "IstioOperator", "istio-ingressgateway");
            assert.equal(providerOf(result, operator).inputs.renderYamlToDirectory, "istioctl/production/istio-ingressgateway");
            const applied = await run(
                productionWith((g) => {
                    g.mode = "istioOperator";
                    g.istioOperator = { install: "operator" };
                }),
                "up",
                "production",
            );
            const viaOperator = resourceOf(applied, "IstioOperator", "istio-ingressgateway");
            assert.equal(
                providerOf(applied, viaOperator).inputs.renderYamlToDirectory,
                "kubernetes/overlays/production/istio-ingressgateway",
            );
        });

        it("applies an in-cluster operator's IstioOperator only after the ConfigMaps its sidecars mount (direct delivery)", async () => {
            const configMap = editConfig(
                productionWith((g) => {
                    g.mode = "istioOperator";
                    g.istioOperator = { install: "operator" };
                }),
                "delivery",
                (d) => ({ ...d, mode: "direct" }),
            );
            const applied = await run(configMap, "up", "production");
            const operator = resourceOf(applied, "IstioOperator", "istio-ingressgateway");
            assert.equal(providerOf(applied, operator).name, "frontend-production-k8s", "applied to the cluster");
            // The operator creates the Deployment at once: a pod mounting a missing ConfigMap would not start.
            const configMaps = applied.resources.filter((r) => r.inputs.kind === "ConfigMap" && r.parent === operator.parent);
            assert.deepEqual(configMaps.map((r) => (r.inputs.metadata as { name: string }).name).sort(), [
                "istio-ingressgateway-error-pages",
                "istio-ingressgateway-fluent-bit",
                "istio-ingressgateway-nginx",
            ]);
            for (const configMap of configMaps) {
                assert.ok(operator.dependencies.includes(configMap.urn), configMap.urn);
            }
        });
    });

    describe("other settings", () => {
        it("serves plain HTTP only and installs no cert-manager without tls (dev)", async () => {
            const result = await runStack("dev");
            const objects = gatewayObjects(result);
            assert.ok(!objects.some((o) => o.kind === "Certificate" || o.kind === "ClusterIssuer"));
            assert.equal(result.resources.filter((r) => r.type === "kubernetes-cert-manager:index:CertManager").length, 0);
            const gateway = one(objects, "Gateway", "pc-dev-example-com");
            assert.deepEqual(gateway.spec.servers, [
                { port: { number: 33000, name: "http", protocol: "HTTP" }, hosts: ["pc.dev.example.com"] },
            ]);
            assert.deepEqual(
                one(objects, "Service").spec.ports.map((p: { name: string }) => p.name),
                ["http"],
            );
            assert.deepEqual(await schemaProblems(objects), []);
        });

        it("applies every object to the cluster in direct delivery mode, and registers the same resources in preview", async () => {
            const configMap = editConfig(stackFile("production").configMap, "delivery", (d) => ({ ...d, mode: "direct" }));
            const up = await run(configMap, "up", "production");
            assert.equal(gatewayObjects(up).length, 15, "the gateway's 15 objects");
            for (const object of gatewayObjects(up)) {
                assert.equal(
                    providerOf(up, resourceOf(up, object.kind, object.metadata.name)).name,
                    "frontend-production-k8s",
                    `${object.kind} ${object.metadata.name}`,
                );
            }
            const preview = await run(configMap, "preview", "production");
            assert.deepEqual(
                gatewayObjects(preview).map((o) => `${o.kind} ${o.metadata.name}`),
                gatewayObjects(up).map((o) => `${o.kind} ${o.metadata.name}`),
            );
        });

        it("uses a private CA issuer when configured, and NodePort with externalTrafficPolicy Local", async () => {
            const result = await run(
                productionWith((g) => {
                    g.tls = { issuer: { ca: { secretName: "frontend-private-ca" } } };
                    g.serviceType = "NodePort";
                    g.serviceAnnotations = { "example.com/owner": "frontend" };
                }),
                "up",
                "production",
            );
            const objects = gatewayObjects(result);
            assert.deepEqual(one(objects, "ClusterIssuer").spec, { ca: { secretName: "frontend-private-ca" } });
            const service = one(objects, "Service");
            assert.equal(service.spec.type, "NodePort");
            assert.equal(service.spec.externalTrafficPolicy, "Local");
            assert.deepEqual(service.metadata.annotations, { "example.com/owner": "frontend" });
            assert.deepEqual(await schemaProblems(objects), []);
        });

        it("leaves serviceAnnotations out of the IstioOperator when none are configured", () => {
            const { config } = parseStackConfig(stackFile("dev").configMap, "dev");
            const rendered = renderIngressGateway({ ...config.gateways[0], mode: "istioOperator" }, { hosts: config.hosts });
            const gateway = (rendered.istioOperator as any).spec.components.ingressGateways[0];
            assert.deepEqual(config.gateways[0].serviceAnnotations, {});
            assert.ok(!("serviceAnnotations" in gateway.k8s), JSON.stringify(Object.keys(gateway.k8s)));
        });

        it("sizes fluent-bit from an explicit resources.fluentBit instead of the rated load", () => {
            const [gateway] = parseStackConfig(
                productionWith(
                    (g) => (g.resources = { fluentBit: { requests: { cpu: "300m", memory: "96Mi" }, limits: { memory: "96Mi" } } }),
                ),
                "production",
            ).config.gateways;
            assert.deepEqual(fluentBitResources(gateway), { requests: { cpu: "300m", memory: "96Mi" }, limits: { memory: "96Mi" } });
        });

        it("reads a mirror URL's host and port (80 by default) and refuses anything else", () => {
            assert.deepEqual(mirrorTarget("http://shadow.frontend-gateway.svc.cluster.local:8080"), {
                host: "shadow.frontend-gateway.svc.cluster.local",
                port: 8080,
            });
            assert.deepEqual(mirrorTarget("http://shadow"), { host: "shadow", port: 80 });
            for (const url of ["https://shadow", "xhttp://shadow", "http://shadow:8080/path", "http://shadow:"]) {
                assert.throws(() => mirrorTarget(url), new Error(`mirror url ${url} is not http://host[:port]`), url);
            }
        });

        it("refuses what it cannot render with a sentence: a duration without unit, fluent-bit on a unix socket, an unknown host", () => {
            assert.equal(durationSeconds("1500ms"), 2, "rounded up");
            assert.throws(() => durationSeconds("15"), new Error('"15" is not a duration such as "15s"'));
            const [gateway] = parseStackConfig(stackFile("dev").configMap, "dev").config.gateways;
            assert.throws(
                () => renderFluentBitConf(gateway, { ...POD_LAYOUT, syslog: { unixPath: "/tmp/sys-log.sock" } }),
                new Error("fluent-bit reads the access log on UDP: the layout's syslog target must be a udpPort"),
            );
            assert.throws(
                () =>
                    renderIngressGateway(
                        { ...gateway, hosts: ["pc", "tv"] },
                        { hosts: parseStackConfig(stackFile("dev").configMap, "dev").config.hosts },
                    ),
                new Error("gateway istio-ingressgateway: host tv is not in hosts"),
            );
        });

        it("renders byte-identical objects for the same config", async () => {
            const first = JSON.stringify(gatewayObjects(await runStackFresh("production")));
            const second = JSON.stringify(gatewayObjects(await runStackFresh("production")));
            assert.equal(first, second);
        });
    });
});
