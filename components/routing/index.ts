/**
 * Host routing (docs/design.md §4): one root VirtualService per host, bound to the host's Gateway
 * objects, that sends each path prefix to the VirtualService of the service owning it
 * (Istio delegation). Prefixes are ordered most specific first, so `/watch` is matched before `/`
 * whatever order services were added in: the order is decided here, never by Istio's merge of
 * separate VirtualServices on one gateway host (which follows creation time).
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS, hostGatewayName, PLATFORM_APPS, StackConfig } from "../config";
import { createKubeObject, inheritedDependsOn, KubeObject, recommendedLabels } from "../shared";

/** `app.kubernetes.io/name` of the host routes: they form one app directory of their own. */
export const HOST_ROUTES_APP = PLATFORM_APPS.hostRoutes;

interface PrefixOwner {
    service: string;
    pathPrefix: string;
}

/** Most specific first: longer prefixes before their own prefixes; ties by name for a stable order. */
export function orderPrefixes(owners: PrefixOwner[]): PrefixOwner[] {
    return [...owners].sort(
        (a, b) => b.pathPrefix.length - a.pathPrefix.length || (a.pathPrefix < b.pathPrefix ? -1 : a.pathPrefix > b.pathPrefix ? 1 : 0),
    );
}

/** Root VirtualServices, one per host that has routes, as plain data. */
export function renderHostRoutes(config: StackConfig): KubeObject[] {
    const labels = recommendedLabels({ name: HOST_ROUTES_APP, component: "routing", partOf: DEFAULTS.partOf });
    return config.hosts.flatMap((host) => {
        const owners = config.services.flatMap((service) =>
            service.routes.filter((r) => r.host === host.name).map((r) => ({ service: service.name, pathPrefix: r.pathPrefix })),
        );
        if (owners.length === 0) {
            return [];
        }
        const gatewayObject = hostGatewayName(host.hostname);
        const gateways = config.gateways.filter((g) => g.hosts.includes(host.name)).map((g) => `${g.namespace}/${gatewayObject}`);
        const seen = new Map<string, number>();
        const http = orderPrefixes(owners).map((owner) => {
            const count = (seen.get(owner.service) ?? 0) + 1;
            seen.set(owner.service, count);
            return {
                name: count === 1 ? owner.service : `${owner.service}-${count}`,
                match: [{ uri: { prefix: owner.pathPrefix } }],
                delegate: { name: owner.service, namespace: config.appNamespace },
            };
        });
        return [
            {
                apiVersion: "networking.istio.io/v1",
                kind: "VirtualService",
                metadata: { name: gatewayObject, namespace: config.appNamespace, labels },
                spec: { hosts: [host.hostname], gateways: [...new Set(gateways)].sort(), http },
            },
        ];
    });
}

/** Registers the root VirtualServices (`bff-platform:routing:HostRoutes`). */
export class HostRoutes extends pulumi.ComponentResource {
    readonly objects: KubeObject[];

    constructor(name: string, args: { config: StackConfig }, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:routing:HostRoutes", name, {}, opts);
        this.objects = renderHostRoutes(args.config);
        for (const object of this.objects) {
            createKubeObject(object, { parent: this, dependsOn: inheritedDependsOn(opts) });
        }
        this.registerOutputs({});
    }
}
