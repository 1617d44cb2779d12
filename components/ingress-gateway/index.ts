/**
 * The ingress gateway component (`bff-platform:gateway:IngressGateway`): one entry of
 * `bff-platform:gateways` becomes the gateway pods with their nginx and fluent-bit access-log
 * sidecars (as our own Deployment with gateway injection, or as an IstioOperator), the sidecars'
 * ConfigMaps, an Istio `Gateway` per host and, with TLS, cert-manager's issuer and certificates.
 * render.ts builds the objects as data; this class only registers them.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GatewayConfig } from "../config";
import { createKubeObject, inheritedDependsOn } from "../shared";
import { GatewayContext, renderIngressGateway, RenderedGateway } from "./render";

export * from "./fluent-bit";
export * from "./nginx";
export * from "./render";

export interface IngressGatewayArgs extends GatewayContext {
    /** The gateway entry of the stack config. */
    gateway: GatewayConfig;
    /** Provider of the cluster itself: cluster-scoped objects (the ClusterIssuer) go there. */
    clusterProvider: k8s.Provider;
    /**
     * cert-manager's release (components/addons): its CRDs must exist before issuers and
     * certificates. Absent when the stack's add-ons leave cert-manager to the cluster's owners.
     */
    certManager?: pulumi.Resource;
    /**
     * `istioOperator` mode installed with istioctl: a provider that only writes the IstioOperator
     * to a file (`renderYamlToDirectory`), so neither Pulumi nor Argo CD applies it.
     */
    istioOperatorProvider?: k8s.Provider;
}

export class IngressGateway extends pulumi.ComponentResource {
    readonly rendered: RenderedGateway;

    /**
     * `opts.provider` decides where the namespaced objects go: the cluster itself, or a provider
     * that renders them into the directory Argo CD syncs.
     */
    constructor(name: string, args: IngressGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:gateway:IngressGateway", name, {}, opts);
        const rendered = renderIngressGateway(args.gateway, args);
        this.rendered = rendered;
        const inherited = inheritedDependsOn(opts);
        const parent = { parent: this, dependsOn: inherited };
        const certManager = [...inherited, ...(args.certManager === undefined ? [] : [args.certManager])];

        const configMaps = rendered.configMaps.map((object) => createKubeObject(object, parent));
        for (const object of rendered.gateways) {
            createKubeObject(object, parent);
        }
        let issuer: pulumi.CustomResource[] = [];
        if (rendered.clusterIssuer !== undefined) {
            issuer = [createKubeObject(rendered.clusterIssuer, { parent: this, provider: args.clusterProvider, dependsOn: certManager })];
        }
        for (const object of rendered.certificates) {
            createKubeObject(object, { parent: this, dependsOn: [...certManager, ...issuer] });
        }
        for (const object of rendered.workload) {
            createKubeObject(object, { parent: this, dependsOn: [...inherited, ...(object.kind === "Deployment" ? configMaps : [])] });
        }
        if (rendered.istioOperator !== undefined) {
            createKubeObject(rendered.istioOperator, {
                parent: this,
                dependsOn: [...inherited, ...configMaps],
                // undefined (an in-cluster operator): the component's provider, as for every other object.
                provider: args.istioOperatorProvider,
            });
        }
        // Stryker disable next-line CallExpression: equivalent, the component has no outputs to register.
        this.registerOutputs({});
    }
}
