/**
 * Namespaces the layers create, labelled alike, each with a default-deny ingress NetworkPolicy;
 * and the policies that open what the platform needs (gateway -> BFF pods, clients -> gateway,
 * metrics scrapers). They always go to the cluster itself, in every delivery mode.
 *
 * The policies take effect once the cluster's CNI enforces NetworkPolicy (the Amazon VPC CNI with
 * its network policy agent on); until then they are inert objects.
 */
import * as k8s from "@pulumi/kubernetes";
import { BFF_COMPONENT, portOf } from "../components/bff-service";
import { DEFAULTS, NETWORK_DEFAULTS, SERVICE_DEFAULTS, StackConfig } from "../components/config";
import { FLUENT_BIT_HTTP_PORT, POD_LAYOUT } from "../components/ingress-gateway";
import {
    allowIngress,
    createKubeObject,
    DEFAULT_DENY_INGRESS,
    defaultDenyIngress,
    NetworkPolicyObject,
    podsInNamespace,
    podsInNamespacesLabelled,
    recommendedLabels,
    tcpPorts,
} from "../components/shared";

/** istio-proxy's status port: load balancer health checks of an IstioOperator gateway's Service. */
const ISTIO_STATUS_PORT = 15021;
/** kubernetes-sigs.github.io/aws-load-balancer-controller: service annotations, health check port of the targets. */
const LB_HEALTHCHECK_PORT_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port";

/** One app name for every policy, so the rendered manifests keep them together per namespace. */
const POLICY_LABELS = recommendedLabels({ name: "network-policies", component: "network-policy", partOf: DEFAULTS.partOf });

/**
 * A namespace with the recommended labels and its default-deny ingress policy: no pod of it
 * accepts a connection another policy does not allow. `istioInjection`: `enabled` for app pods
 * (they get istio-proxy), `disabled` where nothing may be meshed, omitted where pods decide
 * (gateways inject their own template).
 */
export function createNamespace(
    name: string,
    clusterProvider: k8s.Provider,
    istioInjection?: "enabled" | "disabled",
): k8s.core.v1.Namespace {
    const namespace = new k8s.core.v1.Namespace(
        name,
        {
            metadata: {
                name,
                labels: {
                    ...recommendedLabels({ name, component: "namespace", partOf: DEFAULTS.partOf }),
                    ...(istioInjection === undefined ? {} : { "istio-injection": istioInjection }),
                },
            },
        },
        { provider: clusterProvider },
    );
    createKubeObject(
        defaultDenyIngress(name, POLICY_LABELS),
        { provider: clusterProvider, dependsOn: [namespace] },
        `${name}-${DEFAULT_DENY_INGRESS}`,
    );
    return namespace;
}

/**
 * What the BFF and gateway pods accept, on top of their namespaces' default deny:
 * - BFF pods (`app.kubernetes.io/component: bff`; Jobs' pods are `job` and so accept nothing):
 *   the gateways' pods on the services' app ports and the nginx limiter's port, which is what their
 *   Services target; metrics scrapers on the app ports and istio-proxy's metrics ports. One policy
 *   for the namespace, so a port of one service is open on every BFF pod (only to the gateways).
 *   No other pod may call a BFF and skip the gateway's rate limits.
 * - gateway pods: anyone (the load balancer, which keeps the client's address) on nginx's ports,
 *   the ones the gateway's Service targets, plus istio-proxy's status port where the Service
 *   exposes it (istioOperator mode); metrics scrapers on fluent-bit's and istio-proxy's metrics
 *   ports. istio-proxy's own listeners (33000/33443) stay closed: only nginx, over loopback, reaches them.
 * istiod opens no connection to the proxies (they dial it), and kubelet probes come from the node.
 */
export function ingressPolicies(config: StackConfig): NetworkPolicyObject[] {
    const scrapers = podsInNamespacesLabelled(NETWORK_DEFAULTS.metricsScraperNamespaceLabels);
    const bffPods = { matchLabels: { "app.kubernetes.io/component": BFF_COMPONENT } };
    // Port numbers, not names: the VPC CNI's policy controller does not resolve a named port of an
    // ingress rule to the target pod's number (aws/amazon-network-policy-controller-k8s#81).
    const appPorts = [...new Set(config.services.map(portOf))].sort((a, b) => a - b);
    const servingPorts = config.services.some((s) => s.rateLimit?.local?.type === "nginx")
        ? [...new Set([...appPorts, SERVICE_DEFAULTS.localRateLimiter.port])].sort((a, b) => a - b)
        : appPorts;
    const policies: NetworkPolicyObject[] = [];
    if (config.gateways.length > 0) {
        policies.push(
            allowIngress({
                name: "bff-from-gateways",
                namespace: config.appNamespace,
                labels: POLICY_LABELS,
                podSelector: bffPods,
                rules: [
                    {
                        from: config.gateways.map((g) => podsInNamespace(g.namespace, { istio: g.name })),
                        ports: tcpPorts(...servingPorts),
                    },
                ],
            }),
        );
    }
    policies.push(
        allowIngress({
            name: "bff-from-metrics-scrapers",
            namespace: config.appNamespace,
            labels: POLICY_LABELS,
            podSelector: bffPods,
            rules: [{ from: [scrapers], ports: tcpPorts(...appPorts, ...NETWORK_DEFAULTS.istioMetricsPorts) }],
        }),
    );
    for (const gateway of config.gateways) {
        // A load balancer health check on another port than the traffic's (AWS Load Balancer
        // Controller's `healthcheck-port` annotation, default `traffic-port`) must pass too.
        const healthCheckPort = Number(gateway.serviceAnnotations[LB_HEALTHCHECK_PORT_ANNOTATION]);
        const servicePorts = [
            ...new Set([
                POD_LAYOUT.httpPort,
                ...(gateway.tls === undefined ? [] : [POD_LAYOUT.httpsPort]),
                ...(gateway.mode === "istioOperator" ? [ISTIO_STATUS_PORT] : []),
                ...(Number.isInteger(healthCheckPort) ? [healthCheckPort] : []),
            ]),
        ];
        policies.push(
            allowIngress({
                name: `${gateway.name}-from-clients`,
                namespace: gateway.namespace,
                labels: POLICY_LABELS,
                podSelector: { matchLabels: { istio: gateway.name } },
                rules: [{ ports: tcpPorts(...servicePorts) }],
            }),
            allowIngress({
                name: `${gateway.name}-from-metrics-scrapers`,
                namespace: gateway.namespace,
                labels: POLICY_LABELS,
                podSelector: { matchLabels: { istio: gateway.name } },
                rules: [{ from: [scrapers], ports: tcpPorts(FLUENT_BIT_HTTP_PORT, ...NETWORK_DEFAULTS.istioMetricsPorts) }],
            }),
        );
    }
    return policies;
}

/** Registers {@link ingressPolicies} in the cluster, after the namespaces. */
export function createIngressPolicies(config: StackConfig, clusterProvider: k8s.Provider, namespaces: k8s.core.v1.Namespace[]): void {
    for (const policy of ingressPolicies(config)) {
        createKubeObject(
            policy,
            { provider: clusterProvider, dependsOn: namespaces },
            `${policy.metadata.namespace}-${policy.metadata.name}`,
        );
    }
}
