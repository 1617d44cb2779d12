/**
 * The AWS provider's modules the program uses, imported one by one: `import * as aws from
 * "@pulumi/aws"` loads the index of every AWS service module (about 240 of them, ~0.1 s of CPU per
 * process), where these five need a few milliseconds. Components import this as `aws` and write
 * `aws.eks.Cluster` as before; a service used for the first time is added here. Each module
 * registers its own resource types with the SDK when loaded, as through the package's index.
 */
export * as ec2 from "@pulumi/aws/ec2";
export * as eks from "@pulumi/aws/eks";
export * as elasticache from "@pulumi/aws/elasticache";
export * as iam from "@pulumi/aws/iam";
export * as kms from "@pulumi/aws/kms";
export * as s3 from "@pulumi/aws/s3";
export * as vpc from "@pulumi/aws/vpc";
