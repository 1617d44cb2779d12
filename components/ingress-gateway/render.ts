/**
 * Plain functions that turn one entry of `bff-platform:gateways` into Kubernetes objects (data
 * only; index.ts registers them). Two ways to deploy the same gateway, chosen per gateway:
 *
 * - `gatewayInjection` (current Istio): our own Deployment whose pod asks istiod for the `gateway`
 *   injection template (`istio-proxy` with `image: auto`), with nginx and fluent-bit as plain
 *   containers, plus its Service, ServiceAccount, Role/RoleBinding (SDS reads TLS Secrets), HPA, PDB.
 * - `istioOperator` (the handbook's way): an IstioOperator (`profile: empty`, one ingress gateway)
 *   whose `k8s.overlays` append the same containers and volumes to the Deployment Istio renders.
 *
 * Both share the sidecars' ConfigMaps, the Istio `Gateway` object of every host, and with TLS the
 * cert-manager ClusterIssuer and one Certificate per host.
 */
import type * as k8s from "@pulumi/kubernetes";
import { DEFAULTS, GATEWAY_DEFAULTS, GatewayConfig, HostConfig, hostGatewayName, ResourcesConfig, SERVICE_DEFAULTS, UIDS } from "../config";
import {
    assertName,
    childName,
    CONTENT_HASH_ANNOTATION,
    contentHash,
    KubeObject,
    Labels,
    parseCpuMillis,
    recommendedLabels,
    restrictedContainer,
    restrictedPod,
    selectorLabels,
    softSpread,
    sortKeys,
    withoutTrackingLabel,
} from "../shared";
import {
    FLUENT_BIT_CONFIG_DIR,
    FLUENT_BIT_GRACE_SECONDS,
    FLUENT_BIT_HTTP_PORT,
    FLUENT_BIT_STORAGE_DIR,
    fluentBitBufferMi,
    fluentBitResources,
    LOG_OUTPUT_DIR,
    LUA_SCRIPT,
    POD_NAME_ENV,
    renderFluentBitConf,
    renderLuaScript,
    renderParsersConf,
} from "./fluent-bit";
import { errorPages, POD_LAYOUT, renderNginxConf } from "./nginx";

type Container = k8s.types.input.core.v1.Container;
type Volume = k8s.types.input.core.v1.Volume;
type PodSpec = k8s.types.input.core.v1.PodSpec;

/** Container names in the gateway pod. */
export const CONTAINERS = {
    proxy: "istio-proxy",
    nginx: "sidecar-nginx",
    fluentBit: "sidecar-fluent-bit",
    logDirOwner: "log-dir-owner",
} as const;

/** Service ports: the load balancer reaches nginx on these. */
export const SERVICE_PORTS = { http: 80, https: 443 } as const;

/** `app.kubernetes.io/component` of everything a gateway creates. */
export const GATEWAY_COMPONENT = "gateway";

/** Seconds of a duration as Istio writes it ("500ms", "15s", "5m", "1h"), rounded up. */
export function durationSeconds(duration: string): number {
    const match = /^(\d+)(ms|s|m|h)$/.exec(duration);
    if (match === null) {
        throw new Error(`"${duration}" is not a duration such as "15s"`);
    }
    const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] as "ms" | "s" | "m" | "h"];
    return Math.ceil(Number(match[1]) * unit);
}

/**
 * The gateway pod's shutdown, in seconds after the pod is deleted (README "Shutdown"):
 *
 * 1. nginx sleeps `nginxPreStopSeconds` (preStop) while the endpoints drop the pod, then gets
 *    SIGQUIT (the image's STOPSIGNAL): it stops accepting, finishes its requests and exits; a
 *    request still open after `nginxShutdownTimeoutSeconds` (nginx's worker_shutdown_timeout: the
 *    longest route timeout + 5 s) is closed.
 * 2. istio-proxy gets SIGTERM at once and keeps forwarding for `proxyDrainSeconds`
 *    (`terminationDrainDuration`: "on SIGTERM istio-agent tells Envoy to start draining, sleeps
 *    for it, then kills Envoy"; default 5 s, https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#ProxyConfig),
 *    which ends after nginx has exited.
 * 3. fluent-bit, a native sidecar (an init container with `restartPolicy: Always`), is stopped by
 *    the kubelet only after nginx and istio-proxy have exited ("the kubelet postpones terminating
 *    sidecar containers until the main application container has fully stopped",
 *    https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/), so it reads every
 *    record nginx wrote; then it flushes for up to Grace seconds.
 * 4. `terminationGracePeriodSeconds` covers all of it.
 */
export function shutdownPlan(longestRequestSeconds: number) {
    const nginxPreStopSeconds = DEFAULTS.preStopSleepSeconds;
    const nginxShutdownTimeoutSeconds = longestRequestSeconds + 5;
    const nginxExitSeconds = nginxPreStopSeconds + nginxShutdownTimeoutSeconds;
    const proxyDrainSeconds = nginxExitSeconds + 5;
    return {
        nginxPreStopSeconds,
        nginxShutdownTimeoutSeconds,
        proxyDrainSeconds,
        fluentBitGraceSeconds: FLUENT_BIT_GRACE_SECONDS,
        terminationGracePeriodSeconds: proxyDrainSeconds + FLUENT_BIT_GRACE_SECONDS + 10,
    };
}

export type ShutdownPlan = ReturnType<typeof shutdownPlan>;

/**
 * Pod annotation with istio-proxy's ProxyConfig: merged at injection, and read by pilot-agent from
 * the pod's annotations file (/etc/istio/pod/annotations, Downward API) when it starts
 * (istio/istio pilot/cmd/pilot-agent/config: ConstructProxyConfig), so it applies in both modes.
 */
export const PROXY_CONFIG_ANNOTATION = "proxy.istio.io/config";

/** Where the gateway goes and what it belongs to. */
export interface GatewayContext {
    /** Every `hosts` entry of the stack; the gateway serves those it names. */
    hosts: HostConfig[];
    /** `app.kubernetes.io/part-of`. Default: `frontend`. */
    partOf?: string;
    /**
     * The longest route timeout (seconds) of the services this gateway routes to: the longest
     * request nginx forwards. Default: the services' default timeout (15 s).
     */
    longestRequestSeconds?: number;
}

/** Every object of one gateway, as plain data ready to register. */
export type { KubeObject };

export interface RenderedGateway {
    labels: Labels;
    /** Labels the pods carry and Istio `Gateway` objects select (`istio: <name>`). */
    gatewaySelector: Labels;
    /** The hosts served, in the gateway's order. */
    hosts: HostConfig[];
    configMaps: KubeObject[];
    /** Pod annotation that rolls the gateway when a ConfigMap changes. */
    contentHash: string;
    /** Istio `Gateway` per host. */
    gateways: KubeObject[];
    /** cert-manager `Certificate` per host (with TLS). */
    certificates: KubeObject[];
    /** Cluster-scoped cert-manager issuer (with TLS). */
    clusterIssuer?: KubeObject;
    /** gatewayInjection: ServiceAccount, Role, RoleBinding, Deployment, Service, HPA, PDB. */
    workload: KubeObject[];
    /** istioOperator: the IstioOperator object. */
    istioOperator?: KubeObject;
    /** The sidecars, volumes and shutdown settings both modes add to the gateway pod. */
    pod: {
        containers: Container[];
        initContainers: Container[];
        volumes: Volume[];
        terminationGracePeriodSeconds: number;
        annotations: Record<string, string>;
    };
}

/** Names derived from the gateway's name. */
export function gatewayNames(gateway: GatewayConfig) {
    const name = childName("gateway name", gateway.name);
    return {
        name,
        nginxConfigMap: childName(`nginx ConfigMap of ${name}`, name, "nginx"),
        errorPagesConfigMap: childName(`error pages ConfigMap of ${name}`, name, "error-pages"),
        fluentBitConfigMap: childName(`fluent-bit ConfigMap of ${name}`, name, "fluent-bit"),
        clusterIssuer: childName(`ClusterIssuer of ${name}`, name, "issuer"),
    };
}

/** cert-manager Secret of a host's certificate: mounted by nginx, read by istio-proxy through SDS. */
export function tlsSecretName(host: HostConfig): string {
    return assertName("dns1123Subdomain", `${hostGatewayName(host.hostname)}-tls`, `TLS Secret of host ${host.name}`);
}

function resourcesOf(gateway: GatewayConfig, container: keyof typeof GATEWAY_DEFAULTS.resources | "fluentBit"): ResourcesConfig {
    const chosen =
        container === "fluentBit" ? fluentBitResources(gateway) : (gateway.resources[container] ?? GATEWAY_DEFAULTS.resources[container]);
    return { requests: { ...chosen.requests }, limits: { ...chosen.limits } };
}

function containerResources(resources: ResourcesConfig): k8s.types.input.core.v1.ResourceRequirements {
    return { requests: { ...resources.requests }, limits: sortKeys({ ...resources.limits }) as Record<string, string> };
}

/** One nginx worker per CPU the nginx container may use. */
export function nginxWorkerProcesses(gateway: GatewayConfig): number {
    const resources = resourcesOf(gateway, "nginx");
    const millis = parseCpuMillis(resources.limits.cpu ?? resources.requests.cpu);
    return Math.max(1, Math.ceil(millis / 1000));
}

/** No privilege, no root, nothing written outside the mounted volumes. */
function sidecarSecurityContext(): k8s.types.input.core.v1.SecurityContext {
    return restrictedContainer({ uid: GATEWAY_DEFAULTS.sidecarUid });
}

/**
 * istio-proxy as Istio's own gateway chart runs it (manifests/charts/gateway/templates/deployment.yaml):
 * uid/gid 1337, restricted. The `gateway` injection template sets no securityContext of its own,
 * so without this the container would get the pod's uid and the runtime's default capabilities.
 */
function proxySecurityContext(): k8s.types.input.core.v1.SecurityContext {
    return restrictedContainer({ uid: UIDS.istioProxy });
}

const VOLUMES = {
    nginxConf: "sidecar-nginx-conf",
    errorPages: "sidecar-nginx-error-page",
    cache: "cache-volume",
    pid: "pid-volume",
    fluentBitConf: "sidecar-fluent-bit",
    fluentBitStorage: "sidecar-fluent-bit-storage",
    logOutput: "log-output-volume",
} as const;

function tlsVolumeName(host: HostConfig): string {
    return childName(`TLS volume of host ${host.name}`, "tls", host.name);
}

function nginxContainer(gateway: GatewayConfig, hosts: HostConfig[], shutdown: ShutdownPlan): Container {
    const layout = POD_LAYOUT;
    const probe = (periodSeconds: number) => ({
        httpGet: { path: "/healthz", port: "nginx-health" },
        periodSeconds,
        timeoutSeconds: 2,
        failureThreshold: 3,
    });
    return {
        name: CONTAINERS.nginx,
        image: GATEWAY_DEFAULTS.nginxImage,
        // nginx's local time (the access log's time_local) in the company's time zone, as in the seed.
        env: [{ name: "TZ", value: gateway.accessLog.timeZone }],
        ports: [
            { name: "http", containerPort: layout.httpPort, protocol: "TCP" },
            ...(gateway.tls === undefined ? [] : [{ name: "https", containerPort: layout.httpsPort, protocol: "TCP" }]),
            { name: "nginx-health", containerPort: layout.healthPort, protocol: "TCP" },
        ],
        resources: containerResources(resourcesOf(gateway, "nginx")),
        readinessProbe: probe(5),
        livenessProbe: probe(10),
        // The image stops nginx with SIGQUIT (graceful); first let the endpoints update.
        lifecycle: { preStop: { sleep: { seconds: shutdown.nginxPreStopSeconds } } },
        securityContext: sidecarSecurityContext(),
        volumeMounts: [
            { name: VOLUMES.nginxConf, mountPath: "/etc/nginx", readOnly: true },
            { name: VOLUMES.errorPages, mountPath: layout.errorPagesDir, readOnly: true },
            { name: VOLUMES.cache, mountPath: layout.cacheDir },
            { name: VOLUMES.pid, mountPath: layout.pidDir },
            ...(gateway.tls === undefined
                ? []
                : hosts.map((host) => ({ name: tlsVolumeName(host), mountPath: `${layout.tlsDir}/${host.name}`, readOnly: true }))),
        ],
    };
}

/**
 * fluent-bit as a native sidecar (an init container with `restartPolicy: Always`, Kubernetes 1.29+):
 * the kubelet starts it before nginx (once its startup probe passes, so the UDP socket is bound
 * before nginx sends) and stops it only after nginx and istio-proxy have exited.
 */
function fluentBitContainer(gateway: GatewayConfig): Container {
    const probe = (path: string) => ({
        httpGet: { path, port: "http-metrics" },
        failureThreshold: 3,
        timeoutSeconds: 3,
    });
    return {
        name: CONTAINERS.fluentBit,
        image: GATEWAY_DEFAULTS.fluentBitImage,
        restartPolicy: "Always",
        env: [
            // The day of a record that did not parse is the day it was received, in this time zone.
            { name: "TZ", value: gateway.accessLog.timeZone },
            // Part of every file name: two gateway pods on one node never append to the same file.
            { name: POD_NAME_ENV, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        ],
        ports: [{ name: "http-metrics", containerPort: FLUENT_BIT_HTTP_PORT, protocol: "TCP" }],
        startupProbe: { ...probe("/"), periodSeconds: 1, failureThreshold: 30 },
        readinessProbe: probe("/api/v1/metrics/prometheus"),
        livenessProbe: probe("/"),
        resources: containerResources(resourcesOf(gateway, "fluentBit")),
        securityContext: sidecarSecurityContext(),
        volumeMounts: [
            { name: VOLUMES.fluentBitConf, mountPath: FLUENT_BIT_CONFIG_DIR, readOnly: true },
            { name: VOLUMES.fluentBitStorage, mountPath: FLUENT_BIT_STORAGE_DIR },
            { name: VOLUMES.logOutput, mountPath: LOG_OUTPUT_DIR },
        ],
    };
}

/**
 * The one process that runs as root, kept on purpose: kubelet creates a `DirectoryOrCreate`
 * hostPath owned by root with mode 0755 (kubernetes.io/docs/concepts/storage/volumes/#hostpath),
 * `fsGroup` does not apply to hostPath volumes, and fluent-bit (GATEWAY_DEFAULTS.sidecarUid) must
 * write there. Every other way (the node's bootstrap creating the directory, a DaemonSet doing the
 * chown) moves the same root step to a place the pod's review does not see. It only changes the
 * directory's owner (CHOWN, every other capability dropped, no privilege escalation) and exits
 * before the sidecars start.
 */
function logDirOwnerContainer(): Container {
    const uid = GATEWAY_DEFAULTS.sidecarUid;
    return {
        name: CONTAINERS.logDirOwner,
        image: GATEWAY_DEFAULTS.nginxImage,
        // Recursive: the dated directories and files an earlier uid wrote must stay writable.
        command: ["chown", "-R", `${uid}:${uid}`, LOG_OUTPUT_DIR],
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
        securityContext: {
            runAsUser: 0,
            runAsGroup: 0,
            runAsNonRoot: false,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"], add: ["CHOWN"] },
        },
        volumeMounts: [{ name: VOLUMES.logOutput, mountPath: LOG_OUTPUT_DIR }],
    };
}

function volumes(gateway: GatewayConfig, hosts: HostConfig[]): Volume[] {
    const names = gatewayNames(gateway);
    return [
        { name: VOLUMES.nginxConf, configMap: { name: names.nginxConfigMap, items: [{ key: "nginx.conf", path: "nginx.conf" }] } },
        { name: VOLUMES.errorPages, configMap: { name: names.errorPagesConfigMap } },
        { name: VOLUMES.cache, emptyDir: { sizeLimit: "1Gi" } },
        { name: VOLUMES.pid, emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
        { name: VOLUMES.fluentBitConf, configMap: { name: names.fluentBitConfigMap } },
        // fluent-bit's filesystem buffer, in memory (tmpfs: counted in fluent-bit's memory limit):
        // records it could not write yet survive a restart of the container.
        { name: VOLUMES.fluentBitStorage, emptyDir: { medium: "Memory", sizeLimit: `${fluentBitBufferMi(gateway)}Mi` } },
        // The only hostPath: the node's fluentd ships these files (Handbook ch. 10.1.2).
        { name: VOLUMES.logOutput, hostPath: { path: gateway.accessLog.hostPath, type: "DirectoryOrCreate" } },
        ...(gateway.tls === undefined
            ? []
            : hosts.map((host) => ({
                  name: tlsVolumeName(host),
                  // Group-readable by the pod's fsGroup (the sidecars' gid): nginx reads the key, nobody else.
                  // Optional: until cert-manager has issued the certificate the pod starts anyway and
                  // serves HTTP; the kubelet fills the volume once the Secret exists (README, "TLS").
                  secret: { secretName: tlsSecretName(host), defaultMode: 0o440, optional: true },
              }))),
    ];
}

/** Gateway nodes only: `node-role: gateway`, the taint tolerated, replicas spread over nodes and zones. */
function placement(selector: Labels): Pick<PodSpec, "nodeSelector" | "tolerations" | "affinity" | "topologySpreadConstraints"> {
    return {
        nodeSelector: { "node-role": "gateway" },
        // Gateway nodes are tainted dedicated=gateway:NoSchedule (components/cluster).
        tolerations: [{ key: "dedicated", operator: "Equal", value: "gateway", effect: "NoSchedule" }],
        ...softSpread(selector),
    };
}

/**
 * The istio-proxy container as our Deployment declares it: istiod's `gateway` injection template
 * fills in the image (`auto`), arguments and ports but sets no `resources`, and it does not read
 * the `sidecar.istio.io/proxyCPU*` annotations (only the sidecar template does:
 * manifests/charts/istio-control/istio-discovery/files/gateway-injection-template.yaml in
 * istio/istio). Istio's own `gateway` chart puts them on the container for that reason
 * (manifests/charts/gateway/templates/deployment.yaml, `resources:` of `istio-proxy`). Without
 * requests the HPA's CPU utilization of the pod is undefined and it never scales.
 */
function proxyContainer(gateway: GatewayConfig): Container {
    return {
        name: CONTAINERS.proxy,
        image: "auto",
        resources: containerResources(resourcesOf(gateway, "proxy")),
        securityContext: proxySecurityContext(),
    };
}

/**
 * The gateway's release as its pods' `app.kubernetes.io/version` and `version` labels (Datadog's
 * kube_app_version, Istio's canonical revision, which the injection template takes from
 * `app.kubernetes.io/version`, then `version`, else "latest"). The gateway has no version of its
 * own: it is what its pods run, so the label is a digest of the sidecar images, their
 * configuration and the containers' resources, and changes exactly when the pods roll for them.
 */
export function gatewayVersion(gateway: GatewayConfig, configHash: string): string {
    const images = [GATEWAY_DEFAULTS.nginxImage, GATEWAY_DEFAULTS.fluentBitImage];
    const resources = (["proxy", "nginx", "fluentBit"] as const).map((c) => resourcesOf(gateway, c));
    return contentHash({ images, configHash, resources }).slice(0, 12);
}

function hpaSpec(gateway: GatewayConfig, name: string) {
    return {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
        minReplicas: gateway.minReplicas,
        maxReplicas: gateway.maxReplicas,
        metrics: [
            {
                type: "Resource",
                // Utilization of the pod's summed requests: istio-proxy, nginx and fluent-bit (docs/design.md §5).
                resource: { name: "cpu", target: { type: "Utilization", averageUtilization: gateway.targetCpuUtilization } },
            },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    };
}

function servicePorts(gateway: GatewayConfig) {
    return [
        { name: "http", port: SERVICE_PORTS.http, targetPort: POD_LAYOUT.httpPort, protocol: "TCP" },
        ...(gateway.tls === undefined
            ? []
            : [{ name: "https", port: SERVICE_PORTS.https, targetPort: POD_LAYOUT.httpsPort, protocol: "TCP" }]),
    ];
}

/** Renders every object of one gateway. */
export function renderIngressGateway(gateway: GatewayConfig, ctx: GatewayContext): RenderedGateway {
    const names = gatewayNames(gateway);
    const { name } = names;
    const namespace = gateway.namespace;
    const labels = recommendedLabels({ name, component: GATEWAY_COMPONENT, partOf: ctx.partOf ?? DEFAULTS.partOf });
    const selector = selectorLabels({ name });
    const gatewaySelector = { istio: name };
    const hosts = gateway.hosts.map((h) => {
        const host = ctx.hosts.find((candidate) => candidate.name === h);
        if (host === undefined) {
            throw new Error(`gateway ${name}: host ${h} is not in hosts`);
        }
        return host;
    });
    const meta = (objectName: string) => ({ name: objectName, namespace, labels });

    const shutdown = shutdownPlan(ctx.longestRequestSeconds ?? durationSeconds(SERVICE_DEFAULTS.timeout));
    const configData = {
        [names.nginxConfigMap]: {
            "nginx.conf": renderNginxConf({
                gateway,
                hosts,
                workerProcesses: nginxWorkerProcesses(gateway),
                shutdownTimeoutSeconds: shutdown.nginxShutdownTimeoutSeconds,
            }),
        },
        [names.errorPagesConfigMap]: errorPages(gateway),
        [names.fluentBitConfigMap]: {
            "fluent-bit.conf": renderFluentBitConf(gateway),
            "parsers.conf": renderParsersConf(),
            [LUA_SCRIPT]: renderLuaScript(),
        },
    };
    const configMaps: KubeObject[] = Object.entries(configData).map(([cmName, data]) => ({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta(cmName),
        data,
    }));
    const hash = contentHash(configData);

    const pod = {
        containers: [nginxContainer(gateway, hosts, shutdown)],
        // log-dir-owner runs to completion first; then fluent-bit starts and keeps running.
        initContainers: [logDirOwnerContainer(), fluentBitContainer(gateway)],
        volumes: volumes(gateway, hosts),
        terminationGracePeriodSeconds: shutdown.terminationGracePeriodSeconds,
        // istio-proxy keeps forwarding until nginx has exited (Istio's default drain is 5 s).
        annotations: { [PROXY_CONFIG_ANNOTATION]: `terminationDrainDuration: ${shutdown.proxyDrainSeconds}s\n` },
    };

    const tls = gateway.tls;
    const gateways: KubeObject[] = hosts.map((host) => ({
        apiVersion: "networking.istio.io/v1",
        kind: "Gateway",
        metadata: meta(hostGatewayName(host.hostname)),
        spec: {
            selector: gatewaySelector,
            servers: [
                {
                    // istio-proxy's listener for what nginx forwards over loopback; the Service does
                    // not expose this port, so Istio binds it as written (no port translation).
                    port: { number: POD_LAYOUT.proxyHttpPort, name: "http", protocol: "HTTP" },
                    hosts: [host.hostname],
                    ...(tls?.redirectHttp === true ? { tls: { httpsRedirect: true } } : {}),
                },
                ...(tls === undefined
                    ? []
                    : [
                          {
                              port: { number: POD_LAYOUT.proxyHttpsPort, name: "https", protocol: "HTTPS" },
                              hosts: [host.hostname],
                              tls: { mode: "SIMPLE", credentialName: tlsSecretName(host) },
                          },
                      ]),
            ],
        },
    }));

    let clusterIssuer: KubeObject | undefined;
    const certificates: KubeObject[] = [];
    if (tls !== undefined) {
        const { acme, ca } = tls.issuer;
        // Neither the ClusterIssuer (applied by Pulumi to the cluster) nor the Secrets cert-manager
        // writes are in the gateway app's directory: with the gateway app's tracking label they would
        // be its resources missing from git, pruned, and the certificates issued again until ACME's
        // rate limits stop it. Argo CD tracks by the `app.kubernetes.io/instance` label in 2.x (or
        // when `application.resourceTrackingMethod: label`; the key is `application.instanceLabelKey`):
        // argo-cd docs/user-guide/resource_tracking.md, docs/operator-manual/upgrading/2.14-3.0.md.
        const untracked = withoutTrackingLabel(labels);
        clusterIssuer = {
            apiVersion: "cert-manager.io/v1",
            kind: "ClusterIssuer",
            metadata: { name: names.clusterIssuer, labels: untracked },
            spec:
                acme !== undefined
                    ? {
                          acme: {
                              email: acme.email,
                              server: acme.server,
                              privateKeySecretRef: { name: childName("ACME account key", names.clusterIssuer, "account-key") },
                              solvers: [{ dns01: { route53: { region: acme.route53.region, hostedZoneID: acme.route53.hostedZoneId } } }],
                          },
                      }
                    : { ca: { secretName: ca?.secretName } },
        };
        for (const host of hosts) {
            certificates.push({
                apiVersion: "cert-manager.io/v1",
                kind: "Certificate",
                metadata: meta(hostGatewayName(host.hostname)),
                spec: {
                    secretName: tlsSecretName(host),
                    dnsNames: [host.hostname],
                    issuerRef: { name: names.clusterIssuer, kind: "ClusterIssuer", group: "cert-manager.io" },
                    privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
                    secretTemplate: { labels: untracked },
                },
            });
        }
    }

    // Every container runs as the sidecars' uid unless it sets its own (istio-proxy, log-dir-owner);
    // emptyDirs and the TLS Secrets are group-owned by the sidecars' gid.
    const podSecurityContext = restrictedPod({ uid: GATEWAY_DEFAULTS.sidecarUid, fsGroup: GATEWAY_DEFAULTS.sidecarUid });
    const rendered: RenderedGateway = {
        labels,
        gatewaySelector,
        hosts,
        configMaps,
        contentHash: hash,
        gateways,
        certificates,
        clusterIssuer,
        workload: [],
        pod,
    };

    const version = gatewayVersion(gateway, hash);
    if (gateway.mode === "gatewayInjection") {
        const podLabels = sortKeys({
            ...labels,
            ...gatewaySelector,
            "sidecar.istio.io/inject": "true",
            "app.kubernetes.io/version": version,
            version,
        });
        const podAnnotations = sortKeys({
            [CONTENT_HASH_ANNOTATION]: hash,
            // istiod injects istio-proxy from its `gateway` template (image: auto below).
            "inject.istio.io/templates": "gateway",
            "kubectl.kubernetes.io/default-container": CONTAINERS.nginx,
            // The drain settings of istio-proxy (proxy.istio.io/config) and the other pod annotations.
            ...pod.annotations,
        });
        const podSpec: PodSpec = {
            serviceAccountName: name,
            initContainers: pod.initContainers,
            containers: [proxyContainer(gateway), ...pod.containers],
            volumes: pod.volumes,
            ...placement(selector),
            terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
            securityContext: podSecurityContext,
            // nginx and fluent-bit never call the API. istio-proxy does not use this token either: the
            // gateway injection template mounts its own projected `istio-token` (audience istio-ca) at
            // /var/run/secrets/tokens (istio/istio manifests/charts/istio-control/istio-discovery/files/
            // gateway-injection-template.yaml), and istiod, not the pod, reads the TLS Secrets for SDS.
            automountServiceAccountToken: false,
        };
        rendered.workload = [
            // The identity istiod authorizes the gateway's SDS requests for; no pod mounts its token.
            { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(name), automountServiceAccountToken: false },
            {
                apiVersion: "rbac.authorization.k8s.io/v1",
                kind: "Role",
                metadata: meta(name),
                // istio-proxy reads the certificates of its HTTPS servers through SDS.
                rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "watch", "list"] }],
            },
            {
                apiVersion: "rbac.authorization.k8s.io/v1",
                kind: "RoleBinding",
                metadata: meta(name),
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
                subjects: [{ kind: "ServiceAccount", name, namespace }],
            },
            {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: meta(name),
                spec: {
                    // The HPA owns the replica count.
                    selector: { matchLabels: selector },
                    revisionHistoryLimit: 5,
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
                    template: { metadata: { labels: podLabels, annotations: podAnnotations }, spec: podSpec },
                },
            },
            {
                apiVersion: "v1",
                kind: "Service",
                metadata: {
                    ...meta(name),
                    ...(Object.keys(gateway.serviceAnnotations).length > 0 ? { annotations: sortKeys(gateway.serviceAnnotations) } : {}),
                },
                spec: {
                    type: gateway.serviceType,
                    selector,
                    ports: servicePorts(gateway),
                    // Keep the client's address and skip the extra node hop when the balancer targets nodes.
                    ...(gateway.serviceType === "ClusterIP" ? {} : { externalTrafficPolicy: "Local" }),
                },
            },
            { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: meta(name), spec: hpaSpec(gateway, name) },
            {
                apiVersion: "policy/v1",
                kind: "PodDisruptionBudget",
                metadata: meta(name),
                spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
            },
        ];
    } else {
        rendered.istioOperator = renderIstioOperator(gateway, {
            name,
            labels,
            gatewaySelector,
            hash,
            version,
            pod,
            podSecurityContext,
        });
    }
    return rendered;
}

/**
 * The handbook's IstioOperator (§10.2.3): `profile: empty` and one ingress gateway. The sidecars
 * and their volumes are appended with overlay patches built from the very definitions the
 * injection mode uses; `[-1]` is the operator's "insert at the end" index, so no patch depends on
 * how many containers or volumes a given Istio release renders (the seed hard-coded volumes[8..15]).
 */
function renderIstioOperator(
    gateway: GatewayConfig,
    parts: {
        name: string;
        labels: Labels;
        gatewaySelector: Labels;
        hash: string;
        version: string;
        pod: RenderedGateway["pod"];
        podSecurityContext: Record<string, unknown>;
    },
): KubeObject {
    const { name, labels, gatewaySelector, hash, pod } = parts;
    const selector = selectorLabels({ name });
    // Istio's chart sets app.kubernetes.io/name itself; the rest are ours, and they are also the
    // Deployment's selector, so none of them may change between releases.
    const { "app.kubernetes.io/name": _ignored, ...componentLabels } = labels;
    const proxy = resourcesOf(gateway, "proxy");
    return {
        apiVersion: "install.istio.io/v1alpha1",
        kind: "IstioOperator",
        metadata: { name, namespace: gateway.namespace, labels },
        spec: {
            profile: "empty",
            components: {
                ingressGateways: [
                    {
                        name,
                        namespace: gateway.namespace,
                        enabled: true,
                        label: sortKeys({ ...componentLabels, ...gatewaySelector }),
                        k8s: {
                            ...placement(selector),
                            resources: containerResources(proxy),
                            hpaSpec: hpaSpec(gateway, name),
                            podDisruptionBudget: { maxUnavailable: 1 },
                            podAnnotations: sortKeys({ [CONTENT_HASH_ANNOTATION]: hash, ...pod.annotations }),
                            securityContext: parts.podSecurityContext,
                            strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
                            service: {
                                type: gateway.serviceType,
                                ports: [
                                    // istio-proxy's health port, for load balancer health checks.
                                    { name: "status-port", port: 15021, targetPort: 15021, protocol: "TCP" },
                                    ...servicePorts(gateway),
                                ],
                            },
                            ...(Object.keys(gateway.serviceAnnotations).length > 0
                                ? { serviceAnnotations: sortKeys(gateway.serviceAnnotations) }
                                : {}),
                            overlays: [
                                {
                                    apiVersion: "apps/v1",
                                    kind: "Deployment",
                                    name,
                                    patches: [
                                        ...pod.containers.map((value) => ({ path: "spec.template.spec.containers[-1]", value })),
                                        // Istio's Deployment has no init containers: the list is set whole.
                                        { path: "spec.template.spec.initContainers", value: pod.initContainers },
                                        ...pod.volumes.map((value) => ({ path: "spec.template.spec.volumes[-1]", value })),
                                        {
                                            path: "spec.template.spec.terminationGracePeriodSeconds",
                                            value: pod.terminationGracePeriodSeconds,
                                        },
                                        // As in gatewayInjection mode: istio-proxy uses its projected istio-token.
                                        { path: "spec.template.spec.automountServiceAccountToken", value: false },
                                        // The pods' version labels (not in `label`, which is also the
                                        // Deployment's immutable selector). `\.` keeps a dot inside a key
                                        // (istio/istio operator/pkg/util/path.go, PathFromString/splitEscaped).
                                        { path: "spec.template.metadata.labels.version", value: parts.version },
                                        { path: "spec.template.metadata.labels.app\\.kubernetes\\.io/version", value: parts.version },
                                    ],
                                },
                            ],
                        },
                    },
                ],
            },
        },
    };
}
