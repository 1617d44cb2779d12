/**
 * IAM policy documents as types, and the workload identity every pod that calls AWS gets: EKS Pod
 * Identity. The role trusts one service principal (`pods.eks.amazonaws.com`) instead of the
 * cluster's OIDC issuer and a ServiceAccount subject, so no IAM OIDC provider is created per
 * cluster, the trust policy is the same for every cluster and known before the cluster exists (a
 * first `pulumi preview` shows it whole), and the binding to a ServiceAccount is an EKS API object
 * (`aws.eks.PodIdentityAssociation`) instead of an annotation every chart must carry. It needs the
 * `eks-pod-identity-agent` managed add-on, which the cluster component installs.
 * Source: https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
 */
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";

export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Action: string | string[];
    /** Absent in trust policies, required in identity policies. */
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
    Principal?: "*" | Record<string, string | string[]>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/** Trust policy of every workload role: assumed by the EKS Pod Identity Agent on behalf of a pod (TagSession for its session tags). */
export const POD_IDENTITY_TRUST_POLICY: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [
        {
            Effect: "Allow",
            Principal: { Service: "pods.eks.amazonaws.com" },
            Action: ["sts:AssumeRole", "sts:TagSession"],
        },
    ],
};

/** The statement every bucket policy starts with: nothing reaches the bucket without TLS (`aws:SecureTransport`). */
export function denyInsecureTransport(bucket: string): PolicyStatement {
    const arn = `arn:aws:s3:::${bucket}`;
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [arn, `${arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}

export interface WorkloadIdentityArgs {
    clusterName: pulumi.Input<string>;
    namespace: string;
    serviceAccount: string;
    /** What the pods may do; least privilege, asserted by the tests of each caller. */
    policy: pulumi.Input<PolicyDocument>;
    /** IAM policy description: who uses it. */
    description: string;
    tags?: Record<string, string>;
    /** What the association waits for besides its role and policy (the Pod Identity Agent). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * A role the pods of `serviceAccount` assume, its managed policy, and the association that binds
 * them; all named `name`. Returns the association (what a pod using the identity must wait for) and
 * the policy attachment.
 */
export function createWorkloadIdentity(
    name: string,
    args: WorkloadIdentityArgs,
    opts: { parent: pulumi.Resource; dependsOn?: pulumi.Input<pulumi.Resource>[] },
): { association: aws.eks.PodIdentityAssociation; attachment: aws.iam.RolePolicyAttachment } {
    const role = new aws.iam.Role(name, { assumeRolePolicy: JSON.stringify(POD_IDENTITY_TRUST_POLICY), tags: args.tags }, opts);
    const policy = new aws.iam.Policy(
        name,
        { description: args.description, policy: pulumi.output(args.policy).apply((d) => JSON.stringify(d)), tags: args.tags },
        opts,
    );
    const attachment = new aws.iam.RolePolicyAttachment(name, { role: role.name, policyArn: policy.arn }, opts);
    const association = new aws.eks.PodIdentityAssociation(
        name,
        {
            clusterName: args.clusterName,
            namespace: args.namespace,
            serviceAccount: args.serviceAccount,
            roleArn: role.arn,
            tags: args.tags,
        },
        { parent: opts.parent, dependsOn: [...(opts.dependsOn ?? []), ...(args.dependsOn ?? []), attachment] },
    );
    return { association, attachment };
}
