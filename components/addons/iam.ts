/**
 * IAM policies of the add-ons that call AWS, as typed documents (least privilege, asserted in
 * tests/iam.test.ts). Their roles are EKS Pod Identity roles (components/shared/iam.ts says why
 * Pod Identity rather than IRSA).
 */
import type { PolicyDocument } from "../shared";

export type { PolicyDocument, PolicyStatement } from "../shared";
export { POD_IDENTITY_TRUST_POLICY } from "../shared";

/**
 * cert-manager's Route 53 DNS-01 solver, narrowed from cert-manager's documented policy
 * (https://cert-manager.io/docs/configuration/acme/dns01/route53/): record changes only in the
 * configured hosted zones, only TXT records named `_acme-challenge.*` (Route 53's record-level
 * condition keys, https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html);
 * GetChange on changes; ListHostedZonesByName (it supports no resource, so `*`) for the solver's zone lookup.
 */
export function certManagerPolicy(hostedZoneIds: string[]): PolicyDocument {
    const zones = [...new Set(hostedZoneIds)].sort().map((id) => `arn:aws:route53:::hostedzone/${id}`);
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "GetChange", Effect: "Allow", Action: "route53:GetChange", Resource: "arn:aws:route53:::change/*" },
            {
                Sid: "ChallengeRecords",
                Effect: "Allow",
                Action: "route53:ChangeResourceRecordSets",
                Resource: zones,
                Condition: {
                    "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"] },
                    "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"] },
                },
            },
            { Sid: "ListRecords", Effect: "Allow", Action: "route53:ListResourceRecordSets", Resource: zones },
            { Sid: "FindZone", Effect: "Allow", Action: "route53:ListHostedZonesByName", Resource: "*" },
        ],
    };
}

/**
 * Cluster Autoscaler with auto-discovery, from its AWS guide
 * (kubernetes/autoscaler `cluster-autoscaler/cloudprovider/aws/README.md`, "Full Cluster Autoscaler
 * Features Policy"): the Describe/Get calls take no resource-level permission (`*`); the two
 * calls that change capacity are limited to Auto Scaling groups of this account and region that
 * carry this cluster's auto-discovery tags, which EKS puts on the groups of managed node groups
 * (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html).
 */
export function clusterAutoscalerPolicy(args: { clusterName: string; region: string; accountId: string }): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "Discover",
                Effect: "Allow",
                Action: [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                    "eks:DescribeNodegroup",
                ],
                Resource: "*",
            },
            {
                Sid: "ScaleOwnGroups",
                Effect: "Allow",
                Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                Resource: `arn:aws:autoscaling:${args.region}:${args.accountId}:autoScalingGroup:*:autoScalingGroupName/*`,
                Condition: {
                    StringEquals: {
                        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
                        [`aws:ResourceTag/k8s.io/cluster-autoscaler/${args.clusterName}`]: "owned",
                    },
                },
            },
        ],
    };
}

/** Every action a document allows, with the resources it allows it on (for reviews and tests). */
export function allowedActions(document: PolicyDocument): { action: string; resources: string[]; conditional: boolean }[] {
    return document.Statement.filter((s) => s.Effect === "Allow").flatMap((s) =>
        (Array.isArray(s.Action) ? s.Action : [s.Action]).map((action) => ({
            action,
            resources: s.Resource === undefined ? [] : Array.isArray(s.Resource) ? s.Resource : [s.Resource],
            conditional: s.Condition !== undefined,
        })),
    );
}
