/**
 * Platform layer around the cluster: the static-assets bucket and CDN with the services' upload
 * identities, the ECR repositories, and the night schedule of a dev/QA stack. Runs before the app
 * layer: the upload Jobs need their identities, and `image: ecr` resolves to a repository here.
 */
import { aws } from "../components/shared";
import * as pulumi from "@pulumi/pulumi";
import { StaticUploadTarget } from "../components/bff-service";
import { EksCluster } from "../components/cluster";
import { LoadedConfig, ServiceConfig } from "../components/config";
import { ecrRegistry, ecrRepositoryName, EcrRepositories } from "../components/images";
import { NightSchedule } from "../components/schedule";
import { StaticAssets } from "../components/static-assets";
import { STACK_TAGS } from "./cluster";

export interface PlatformLayer {
    /** The services with `image: ecr` resolved to their repository. */
    services: ServiceConfig[];
    /** Where the upload Jobs write; absent without a `staticAssets` section. */
    staticUpload?: StaticUploadTarget;
    /** Each upload Job's identity, by service: the Job waits for it. */
    uploadIdentities: Map<string, pulumi.Resource>;
    staticAssets?: StaticAssets;
}

export async function createPlatformLayer({ config, region }: LoadedConfig, cluster: EksCluster): Promise<PlatformLayer> {
    const tags = STACK_TAGS(config.environment);
    let services = config.services;
    if (config.ecr.enabled) {
        new EcrRepositories("images", { ecr: config.ecr, services: config.services, tags });
        if (services.some((s) => s.image === "ecr")) {
            // The registry host names the account the stack deploys to (the AWS provider's credentials).
            const { accountId } = await aws.getCallerIdentity();
            const registry = ecrRegistry(accountId, region);
            services = services.map((s) =>
                s.image === "ecr" ? { ...s, image: `${registry}/${ecrRepositoryName(s, config.services)}` } : s,
            );
        }
    }
    if (config.schedule !== undefined) {
        new NightSchedule("night", {
            schedule: config.schedule,
            pools: config.nodePools.map((pool, i) => ({ pool, nodeGroup: cluster.nodeGroups[i] })),
        });
    }
    if (config.staticAssets === undefined) {
        return { services, uploadIdentities: new Map() };
    }
    const staticAssets = new StaticAssets("static-assets", {
        staticAssets: config.staticAssets,
        environment: config.environment,
        services,
        clusterName: cluster.clusterName,
        namespace: config.appNamespace,
        podIdentityAgent: cluster.managedAddons["eks-pod-identity-agent"],
        tags,
    });
    return {
        services,
        staticAssets,
        uploadIdentities: staticAssets.uploadIdentities,
        staticUpload: {
            bucket: config.staticAssets.bucket,
            region,
            npmRegistry: config.staticAssets.npmRegistry,
            npmTokenSecret: config.staticAssets.npmTokenSecret,
        },
    };
}
