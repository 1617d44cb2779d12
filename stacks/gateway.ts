/**
 * Gateway layer: one IngressGateway per entry of `gateways`. cert-manager is an add-on
 * (components/addons); the ClusterIssuers go to the cluster; the gateway's own objects follow the
 * delivery mode like every app (Argo CD's directory or the cluster).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAddons } from "../components/addons";
import { LoadedConfig } from "../components/config";
import { DeliveryTargets } from "../components/delivery";
import { durationSeconds, IngressGateway } from "../components/ingress-gateway";

export interface GatewayLayer {
    gateways: IngressGateway[];
}

/** Directory (relative to the project) where `istioctl install -f` finds a gateway's IstioOperator. */
export function istioctlDirectory(environment: string, gateway: string): string {
    return `istioctl/${environment}/${gateway}`;
}

/**
 * `dependsOn`: what must exist before the gateways' objects, i.e. their namespaces (created by the
 * app layer). Istio `Gateway`s wait for Istio, issuers and certificates for cert-manager (when the
 * stack installs them; otherwise they are expected on the cluster).
 */
export function createGatewayLayer(
    { config }: LoadedConfig,
    clusterProvider: k8s.Provider,
    delivery: DeliveryTargets,
    addons: ClusterAddons,
    dependsOn: pulumi.Resource[] = [],
): GatewayLayer {
    const certManager = addons.releasesOf("certManager")[0];
    const gateways = config.gateways.map((gateway) => {
        const provider = delivery.providerFor(gateway.name);
        const istioctl = gateway.mode === "istioOperator" && (gateway.istioOperator?.install ?? "istioctl") === "istioctl";
        const istioOperatorProvider = istioctl
            ? new k8s.Provider(`istioctl-${gateway.name}`, { renderYamlToDirectory: istioctlDirectory(config.environment, gateway.name) })
            : undefined;
        // The longest request nginx forwards: the longest route timeout of the services on this gateway's hosts.
        const timeouts = config.services
            .filter((service) => service.routes.some((route) => gateway.hosts.includes(route.host)))
            .map((service) => durationSeconds(service.timeout));
        const longestRequestSeconds = timeouts.length > 0 ? Math.max(...timeouts) : undefined;
        return new IngressGateway(
            gateway.name,
            { gateway, hosts: config.hosts, clusterProvider, certManager, istioOperatorProvider, longestRequestSeconds },
            { provider, dependsOn: [...dependsOn, ...addons.releasesOf("istio")] },
        );
    });
    return { gateways };
}
