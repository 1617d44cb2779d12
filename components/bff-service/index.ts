/**
 * The BFF service component (`bff-platform:service:BffService`): one entry of
 * `bff-platform:services` becomes its ConfigMap, Argo Rollouts Rollout (or Deployment), Services,
 * VirtualService, DestinationRules, PodDisruptionBudget, HPA, AnalysisTemplate, legacy
 * ServiceEntry, Jobs and CronJobs.
 */
import * as pulumi from "@pulumi/pulumi";
import { PLATFORM_DEFAULTS, ServiceConfig } from "../config";
import { createKubeObject, inheritedDependsOn } from "../shared";
import { allObjects, renderBffService, RenderedService } from "./render";
import { ServiceContext } from "./workload";

export * from "./analysis";
export * from "./local-rate-limit";
export * from "./names";
export * from "./render";
export * from "./static-upload";
export * from "./traffic";
export * from "./workload";

const UPLOAD_TIMEOUT = `${Math.ceil(PLATFORM_DEFAULTS.upload.activeDeadlineSeconds / 60) + 1}m`;

export interface BffServiceArgs extends ServiceContext {
    /** The service entry of the stack config. */
    service: ServiceConfig;
    /** What the upload Job needs first: its workload identity (Pod Identity association). Default: none. */
    uploadDependsOn?: pulumi.Resource[];
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
        const objects = allObjects(this.rendered);
        const inherited = inheritedDependsOn(opts);
        // The pods read the ConfigMaps at start: create those first.
        const configMaps = objects
            .filter((o) => o.kind === "ConfigMap")
            .map((o) => createKubeObject(o, { parent: this, dependsOn: inherited }));
        // The release's static files are uploaded before its pods serve pages that name them: the
        // workload waits for the upload Job (Pulumi waits for a Job to complete), the Job for its identity.
        const upload = this.rendered.staticUpload;
        const uploadJob =
            upload === undefined
                ? []
                : [
                      createKubeObject(upload.job, {
                          parent: this,
                          dependsOn: [
                              ...inherited,
                              createKubeObject(upload.serviceAccount, { parent: this, dependsOn: inherited }),
                              ...(args.uploadDependsOn ?? []),
                          ],
                          // pulumi-kubernetes waits for a Job's Complete condition for 10 minutes by default
                          // (https://www.pulumi.com/registry/packages/kubernetes/api-docs/batch/v1/job/): give it
                          // the Job's own deadline and a minute, so Kubernetes, not Pulumi, decides a slow upload.
                          customTimeouts: { create: UPLOAD_TIMEOUT, update: UPLOAD_TIMEOUT },
                      }),
                  ];
        const uploadObjects = new Set(upload === undefined ? [] : [upload.job, upload.serviceAccount]);
        for (const object of objects.filter((o) => o.kind !== "ConfigMap" && !uploadObjects.has(o))) {
            const dependsOn =
                object === this.rendered.workload ? [...inherited, ...configMaps, ...uploadJob] : [...inherited, ...configMaps];
            createKubeObject(object, { parent: this, dependsOn });
        }
        // Stryker disable next-line CallExpression: equivalent, the component has no outputs to register.
        this.registerOutputs({});
    }
}
