/**
 * The BFF service component (`bff-platform:service:BffService`): one entry of
 * `bff-platform:services` becomes its ConfigMap, Argo Rollouts Rollout (or Deployment), Services,
 * VirtualService, DestinationRules, PodDisruptionBudget, HPA, AnalysisTemplate, legacy
 * ServiceEntry, Jobs and CronJobs.
 */
import * as pulumi from "@pulumi/pulumi";
import { ServiceConfig } from "../config";
import { createKubeObject } from "../shared";
import { allObjects, renderBffService, RenderedService } from "./render";
import { ServiceContext } from "./workload";

export * from "./analysis";
export * from "./names";
export * from "./render";
export * from "./traffic";
export * from "./workload";

export interface BffServiceArgs extends ServiceContext {
    /** The service entry of the stack config. */
    service: ServiceConfig;
}

export class BffService extends pulumi.ComponentResource {
    readonly rendered: RenderedService;
    /** Name of the workload (Rollout or Deployment). */
    readonly workloadName: string;

    /**
     * `opts.provider` decides where the objects go: the cluster itself, or a provider that renders
     * them into the directory Argo CD syncs.
     */
    constructor(name: string, args: BffServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:service:BffService", name, {}, opts);
        this.rendered = renderBffService(args.service, args);
        this.workloadName = this.rendered.names.workload;
        const configMap = createKubeObject(this.rendered.configMap, { parent: this });
        for (const object of allObjects(this.rendered).slice(1)) {
            // The workload reads the ConfigMap at start: create it first.
            createKubeObject(object, { parent: this, dependsOn: [configMap] });
        }
        this.registerOutputs({});
    }
}
