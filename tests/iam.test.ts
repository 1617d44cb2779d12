/**
 * IAM of the add-ons: each policy's actions and resources, literally, as registered by the
 * program (`up` mode, where the account id is known) and as the typed documents build them; the
 * roles trust only EKS Pod Identity; nothing anywhere allows `*` on `*`.
 */
import assert from "node:assert/strict";
import {
    allowedActions,
    AWS_LOAD_BALANCER_CONTROLLER_POLICY,
    certManagerPolicy,
    clusterAutoscalerPolicy,
    PolicyDocument,
} from "../components/addons";
import { RunResult } from "../cli/mock-runtime";
import { editConfig, findResource, oncePerRun, resourcesOfType, run, runStack, stackFile } from "./support/program";

function policyOf(result: RunResult, name: string): PolicyDocument {
    return JSON.parse(String(findResource(result, "aws:iam/policy:Policy", name).inputs.policy)) as PolicyDocument;
}

function asList(value: string | string[] | undefined): string[] {
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** No statement may allow every action, nor any action of a service on every resource without a condition. */
function assertNoWildcardGrant(document: PolicyDocument, what: string): void {
    for (const statement of document.Statement.filter((s) => s.Effect === "Allow")) {
        const actions = asList(statement.Action);
        const resources = asList(statement.Resource);
        assert.ok(!actions.includes("*"), `${what}: Action "*"`);
        assert.ok(!actions.some((a) => a.endsWith(":*")), `${what}: a whole service's actions (${actions.join(", ")})`);
        assert.ok(!(actions.includes("*") && resources.includes("*")), `${what}: "*" on "*"`);
    }
}

describe("IAM of the add-ons", () => {
    let production: RunResult;
    const productionRun = oncePerRun(() => runStack("production"));
    beforeEach(async () => {
        production = await productionRun();
    });

    it("cert-manager may change only _acme-challenge TXT records of the configured hosted zone", () => {
        const policy = policyOf(production, "frontend-production-cert-manager");
        assert.deepEqual(policy, {
            Version: "2012-10-17",
            Statement: [
                { Sid: "GetChange", Effect: "Allow", Action: "route53:GetChange", Resource: "arn:aws:route53:::change/*" },
                {
                    Sid: "ChallengeRecords",
                    Effect: "Allow",
                    Action: "route53:ChangeResourceRecordSets",
                    Resource: ["arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"],
                    Condition: {
                        "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"] },
                        "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"] },
                    },
                },
                {
                    Sid: "ListRecords",
                    Effect: "Allow",
                    Action: "route53:ListResourceRecordSets",
                    Resource: ["arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"],
                },
                { Sid: "FindZone", Effect: "Allow", Action: "route53:ListHostedZonesByName", Resource: "*" },
            ],
        });
    });

    it("cert-manager gets no AWS identity when no gateway issues certificates through Route 53", async () => {
        const dev = await runStack("dev");
        assert.equal(
            resourcesOfType(dev, "aws:iam/policy:Policy").some((p) => p.name.endsWith("-cert-manager")),
            false,
        );
        assert.equal(certManagerPolicy(["Z2", "Z1", "Z2"]).Statement[1].Resource?.length, 2, "one entry per zone, no repeats");
    });

    it("the Cluster Autoscaler may scale only the Auto Scaling groups tagged for this cluster", () => {
        const policy = policyOf(production, "frontend-production-cluster-autoscaler");
        assert.deepEqual(policy.Statement[1], {
            Sid: "ScaleOwnGroups",
            Effect: "Allow",
            Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            Resource: "arn:aws:autoscaling:ap-northeast-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*",
            Condition: {
                StringEquals: {
                    "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
                    "aws:ResourceTag/k8s.io/cluster-autoscaler/frontend-production": "owned",
                },
            },
        });
        // Reads only on `*` (these calls support no resource-level permission).
        assert.deepEqual(policy.Statement[0].Action, [
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:DescribeLaunchConfigurations",
            "autoscaling:DescribeScalingActivities",
            "ec2:DescribeImages",
            "ec2:DescribeInstanceTypes",
            "ec2:DescribeLaunchTemplateVersions",
            "ec2:GetInstanceTypesFromInstanceRequirements",
            "eks:DescribeNodegroup",
        ]);
        assert.equal(policy.Statement.length, 2);
        assert.deepEqual(clusterAutoscalerPolicy({ clusterName: "c", region: "r", accountId: "1" }).Statement.length, 2);
    });

    it("the Load Balancer Controller carries its published policy: conditional deletes, IAM only for its service-linked role and reading certificates", () => {
        const policy = policyOf(production, "frontend-production-aws-load-balancer-controller");
        assert.deepEqual(policy, AWS_LOAD_BALANCER_CONTROLLER_POLICY);
        const grants = allowedActions(policy);
        assert.equal(grants.length, 86, "the published policy's action count");
        const iam = grants.filter((g) => g.action.startsWith("iam:"));
        assert.deepEqual(iam, [
            { action: "iam:CreateServiceLinkedRole", resources: ["*"], conditional: true },
            { action: "iam:ListServerCertificates", resources: ["*"], conditional: false },
            { action: "iam:GetServerCertificate", resources: ["*"], conditional: false },
        ]);
        assert.deepEqual(policy.Statement[0].Condition, { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } });
        // Deleting load balancers and target groups only where the controller's cluster tag is present.
        const deletes = grants.filter(
            (g) => g.action === "elasticloadbalancing:DeleteLoadBalancer" || g.action === "elasticloadbalancing:DeleteTargetGroup",
        );
        assert.equal(deletes.length, 2);
        assert.ok(deletes.every((g) => g.conditional));
        // Security group changes only on groups the controller tagged.
        const deleteGroup = grants.find((g) => g.action === "ec2:DeleteSecurityGroup");
        assert.deepEqual(deleteGroup?.resources, ["*"]);
        assert.equal(deleteGroup?.conditional, true);
    });

    it("every add-on role trusts only EKS Pod Identity and is bound to its ServiceAccount", () => {
        const associations = resourcesOfType(production, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
        assert.deepEqual(
            associations.map((a) => [a.inputs.namespace, a.inputs.serviceAccount]),
            [
                ["aws-load-balancer-controller", "aws-load-balancer-controller"],
                ["cert-manager", "cert-manager"],
                ["cluster-autoscaler", "cluster-autoscaler"],
                // The Argo CD backup's (tests/argocd-backup.test.ts checks its policy).
                ["argocd", "argocd-backup"],
                // The static upload Jobs' identities (tests/static-assets.test.ts checks their policies).
                ["frontend", "pc-web-static-upload"],
                ["frontend", "sp-web-static-upload"],
            ],
        );
        for (const name of ["cert-manager", "cluster-autoscaler", "aws-load-balancer-controller"]) {
            const role = findResource(production, "aws:iam/role:Role", `frontend-production-${name}`);
            assert.deepEqual(JSON.parse(String(role.inputs.assumeRolePolicy)), {
                Version: "2012-10-17",
                Statement: [
                    { Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] },
                ],
            });
        }
    });

    it("binds a role to pods only once its policy is attached and the Pod Identity Agent runs: no pod starts without its permissions", () => {
        const associations = resourcesOfType(production, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
        assert.equal(associations.length, 6);
        const agent = findResource(production, "aws:eks/addon:Addon", "frontend-production-eks-pod-identity-agent");
        // A managed policy's attachment (add-ons, backup) or an inline role policy (static uploads), named like the association.
        const grants = [
            ...resourcesOfType(production, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"),
            ...resourcesOfType(production, "aws:iam/rolePolicy:RolePolicy"),
        ];
        for (const association of associations) {
            const grant = grants.filter((g) => g.name === association.name);
            assert.equal(grant.length, 1, `${association.name}: one grant`);
            assert.ok(association.dependencies.includes(grant[0].urn), `${association.name} waits for its policy`);
            assert.ok(association.dependencies.includes(agent.urn), `${association.name} waits for the Pod Identity Agent`);
        }
    });

    it("nothing grants * on *, nor a whole service, in any policy the program registers", async () => {
        const file = stackFile("production");
        const direct = await run(
            editConfig(file.configMap, "delivery", (d) => ({ ...d, mode: "direct" })),
            "up",
            "production",
            file.secretKeys,
        );
        const policies = resourcesOfType(direct, "aws:iam/policy:Policy");
        assert.equal(policies.length, 3);
        for (const policy of policies) {
            assertNoWildcardGrant(JSON.parse(String(policy.inputs.policy)) as PolicyDocument, policy.name);
        }
        assert.throws(
            () => assertNoWildcardGrant({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }, "probe"),
            /Action "\*"/,
        );
        // Managed policies attached to roles: the node and cluster roles' AWS-managed policies only.
        const attached = resourcesOfType(direct, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            .map((a) => String(a.inputs.policyArn))
            .filter((arn) => arn.startsWith("arn:aws:iam::aws:policy/"))
            .sort();
        assert.deepEqual(attached, [
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
            "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
            "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        ]);
    });
});
