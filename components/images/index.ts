/**
 * ECR repositories (`bff-platform:images:EcrRepositories`): one per service that is its own
 * codebase (a service that `extends` another shares its base's images), named
 * `<partOf>/<service>`. Tags are immutable (a release tag always means the same image), images are
 * scanned on push and encrypted with KMS, and a lifecycle policy keeps the last `keepReleases`
 * tagged images and expires untagged ones after `untaggedDays`. Repositories are protected.
 * A service whose `image` is `ecr` runs its repository's image.
 */
import { aws } from "../shared";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS, EcrConfig, ServiceConfig } from "../config";

/** The repository a service's images live in: its own, or its root base's through `extends`. */
export function ecrRepositoryName(service: ServiceConfig, services: ServiceConfig[], partOf: string = DEFAULTS.partOf): string {
    let current = service;
    const seen = new Set<string>();
    while (current.extends !== undefined && !seen.has(current.name)) {
        seen.add(current.name);
        current = services.find((s) => s.name === current.extends) ?? current;
    }
    return `${partOf}/${current.name}`;
}

/** The registry host of an account's private ECR in a region. */
export function ecrRegistry(accountId: string, region: string): string {
    return `${accountId}.dkr.ecr.${region}.amazonaws.com`;
}

/** Lifecycle rules: untagged images expire first (rule 1), then all but the newest tagged ones (rule 2). */
export function lifecyclePolicy(ecr: EcrConfig): object {
    return {
        rules: [
            {
                rulePriority: 1,
                description: `untagged images after ${ecr.untaggedDays} days`,
                selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: ecr.untaggedDays },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: `keep the last ${ecr.keepReleases} release images`,
                selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: ecr.keepReleases },
                action: { type: "expire" },
            },
        ],
    };
}

export interface EcrRepositoriesArgs {
    ecr: EcrConfig;
    services: ServiceConfig[];
    tags?: Record<string, string>;
}

export class EcrRepositories extends pulumi.ComponentResource {
    readonly repositories = new Map<string, aws.ecr.Repository>();

    constructor(name: string, args: EcrRepositoriesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:images:EcrRepositories", name, {}, opts);
        const names = [...new Set(args.services.map((s) => ecrRepositoryName(s, args.services)))].sort();
        for (const repositoryName of names) {
            const logical = repositoryName.replace(/\//g, "-");
            const repository = new aws.ecr.Repository(
                logical,
                {
                    name: repositoryName,
                    imageTagMutability: "IMMUTABLE",
                    imageScanningConfiguration: { scanOnPush: true },
                    encryptionConfigurations: [{ encryptionType: "KMS" }],
                    tags: args.tags,
                },
                { parent: this, protect: true },
            );
            new aws.ecr.LifecyclePolicy(
                logical,
                { repository: repository.name, policy: JSON.stringify(lifecyclePolicy(args.ecr)) },
                { parent: this },
            );
            this.repositories.set(repositoryName, repository);
        }
        this.registerOutputs({});
    }
}
