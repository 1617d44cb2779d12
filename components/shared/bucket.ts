/**
 * An S3 bucket nobody outside reaches by accident: all four public-access blocks, objects owned by
 * the bucket owner (no ACLs), default encryption (SSE-S3, or SSE-KMS with a key of the caller's),
 * versioning, and a lifecycle of the caller's rules. The bucket is protected; its policy is the
 * caller's (`putPolicy`, once what it names exists) and is put after the public-access block (a
 * policy is judged against the block when it is put). Every resource is named `name`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { input as awsInput } from "@pulumi/aws/types";
import * as aws from "./aws";
import { PolicyDocument } from "./iam";

export interface PrivateBucketArgs {
    bucket: string;
    /** SSE-KMS with this key; default SSE-S3 (AES256). */
    kmsKeyArn?: pulumi.Input<string>;
    /** Lifecycle rules (versioning is on, so a rule that expires noncurrent versions is usual). */
    lifecycleRules: awsInput.s3.BucketLifecycleConfigurationRule[];
    tags?: Record<string, string>;
}

export interface PrivateBucket {
    bucket: aws.s3.Bucket;
    /** Puts the bucket policy (TLS only at least: `denyInsecureTransport`), after the public-access block. */
    putPolicy(policy: pulumi.Input<PolicyDocument>): aws.s3.BucketPolicy;
}

export function createPrivateBucket(name: string, args: PrivateBucketArgs, parent: pulumi.Resource): PrivateBucket {
    const opts = { parent };
    const created = new aws.s3.Bucket(name, { bucket: args.bucket, tags: args.tags }, { parent, protect: true });
    const bucket = created.bucket;
    const privateAccess = new aws.s3.BucketPublicAccessBlock(
        name,
        { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        opts,
    );
    new aws.s3.BucketOwnershipControls(name, { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
    new aws.s3.BucketServerSideEncryptionConfiguration(
        name,
        {
            bucket,
            rules: [
                {
                    applyServerSideEncryptionByDefault:
                        args.kmsKeyArn === undefined
                            ? { sseAlgorithm: "AES256" }
                            : { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
                    bucketKeyEnabled: true,
                },
            ],
        },
        opts,
    );
    const versioning = new aws.s3.BucketVersioning(name, { bucket, versioningConfiguration: { status: "Enabled" } }, opts);
    new aws.s3.BucketLifecycleConfiguration(name, { bucket, rules: args.lifecycleRules }, { parent, dependsOn: [versioning] });
    return {
        bucket: created,
        putPolicy: (policy) =>
            new aws.s3.BucketPolicy(
                name,
                { bucket, policy: pulumi.output(policy).apply((document) => JSON.stringify(document)) },
                { parent, dependsOn: [privateAccess] },
            ),
    };
}
