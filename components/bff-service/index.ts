/**
 * The BFF service component: one entry of `bff-platform:services` becomes its ConfigMap,
 * Deployment, Service, PodDisruptionBudget and (optionally) HorizontalPodAutoscaler.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ServiceConfig } from "../config";
import { renderBffService, ServiceContext } from "./render";

export * from "./render";

export interface BffServiceArgs extends ServiceContext {
    /** The service entry of the stack config. */
    service: ServiceConfig;
}

export class BffService extends pulumi.ComponentResource {
    readonly deployment: k8s.apps.v1.Deployment;
    readonly service: k8s.core.v1.Service;

    /**
     * `opts.provider` decides where the objects go: the cluster itself, or a provider that renders
     * them into the directory Argo CD syncs.
     */
    constructor(name: string, args: BffServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:service:BffService", name, {}, opts);
        const rendered = renderBffService(args.service, args);
        const parent = { parent: this };

        const configMap = new k8s.core.v1.ConfigMap(rendered.configMap.metadata.name as string, rendered.configMap, parent);
        this.deployment = new k8s.apps.v1.Deployment(name, rendered.deployment, { ...parent, dependsOn: [configMap] });
        this.service = new k8s.core.v1.Service(name, rendered.service, parent);
        new k8s.policy.v1.PodDisruptionBudget(name, rendered.podDisruptionBudget, parent);
        if (rendered.horizontalPodAutoscaler !== undefined) {
            new k8s.autoscaling.v2.HorizontalPodAutoscaler(name, rendered.horizontalPodAutoscaler, parent);
        }
        this.registerOutputs({});
    }
}
