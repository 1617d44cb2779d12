/**
 * The AWS platform around the cluster, under the mock runtime for the committed stacks: ECR
 * repositories and `image: ecr`, the dev night schedule, an optional network of the stack's own,
 * the cross-section config rules, and the monthly cost estimate with its budget warning.
 */
import assert from "node:assert/strict";
import { budgetWarning, costSection, estimateMonthlyCost } from "../cli/cost";
import { parseStackConfig } from "../components/config";
import { subnetPlan } from "../components/network";
import { configProblems, editConfig, findResource, resourcesOfType, run, runStack, stackFile } from "./support/program";

/** A config map without one `bff-platform:` key. */
function without(configMap: Record<string, string>, key: string): Record<string, string> {
    const copy = { ...configMap };
    delete copy[`bff-platform:${key}`];
    return copy;
}

/** Production on a network of its own: the cluster's VPC and subnet ids removed, `network` set. */
function withNetwork(stack: string, network: object): Record<string, string> {
    const configMap = editConfig(stackFile(stack).configMap, "cluster", (cluster) => {
        delete cluster.vpcId;
        delete cluster.privateSubnetIds;
        return cluster;
    });
    return { ...configMap, "bff-platform:network": JSON.stringify(network) };
}

const PRODUCTION_REPOSITORIES = [
    "frontend/account-web",
    "frontend/ads-bff",
    "frontend/comment-bff",
    "frontend/embed-web",
    "frontend/gift-bff",
    "frontend/notification-bff",
    "frontend/pc-timeshift",
    "frontend/pc-watch",
    "frontend/pc-web",
    "frontend/ranking-bff",
    "frontend/search-bff",
    "frontend/sp-web",
];

describe("ECR repositories", () => {
    it("creates one protected, immutable, scanned, KMS-encrypted repository per production codebase", async () => {
        const result = await runStack("production");
        const repositories = resourcesOfType(result, "aws:ecr/repository:Repository");
        // 15 services; pc-web-v2, sp-watch and sp-timeshift extend another service and share its images.
        assert.deepEqual(
            repositories.map((r) => r.inputs.name),
            PRODUCTION_REPOSITORIES,
        );
        for (const repository of repositories) {
            assert.equal(repository.protect, true, String(repository.inputs.name));
            assert.equal(repository.inputs.imageTagMutability, "IMMUTABLE");
            assert.deepEqual(repository.inputs.imageScanningConfiguration, { scanOnPush: true });
            assert.deepEqual(repository.inputs.encryptionConfigurations, [{ encryptionType: "KMS" }]);
        }
        const lifecycle = findResource(result, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "frontend-pc-web");
        assert.equal(lifecycle.inputs.repository, "frontend/pc-web");
        assert.deepEqual(JSON.parse(lifecycle.inputs.policy as string), {
            rules: [
                {
                    rulePriority: 1,
                    description: "untagged images after 7 days",
                    selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
                    action: { type: "expire" },
                },
                {
                    rulePriority: 2,
                    description: "keep the last 50 release images",
                    selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 50 },
                    action: { type: "expire" },
                },
            ],
        });
        assert.equal(resourcesOfType(await runStack("dev"), "aws:ecr/repository:Repository").length, 0, "dev has ecr disabled");
    });

    it("resolves image: ecr to the repository in the deploying account, for the service and what extends it", async () => {
        const result = await runStack("production");
        const imageOf = (name: string) =>
            (findResource(result, "kubernetes:argoproj.io/v1alpha1:Rollout", name).inputs as any).spec.template.spec.containers[0].image;
        assert.equal(imageOf("pc-web"), "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/frontend/pc-web:2.14.0");
        assert.equal(imageOf("sp-web"), "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/frontend/sp-web:2.14.0");
        assert.match(imageOf("pc-web-v2"), /^123456789012\.dkr\.ecr\.ap-northeast-1\.amazonaws\.com\/frontend\/pc-web:/);
        assert.equal(JSON.stringify(result.resources).includes('"ecr:'), false, "no image is left as the literal ecr");
    });
});

describe("night schedule", () => {
    it("scales each dev node group to zero at night and back to its sizes in the morning", async () => {
        const result = await runStack("dev");
        assert.deepEqual(
            resourcesOfType(result, "aws:autoscaling/schedule:Schedule").map((s) => [s.name, s.inputs]),
            [
                [
                    "night-gateway-start",
                    {
                        autoscalingGroupName: "eks-frontend-dev-gateway-mock-asg",
                        desiredCapacity: 1,
                        maxSize: 2,
                        minSize: 1,
                        recurrence: "0 8 * * 1-5",
                        scheduledActionName: "gateway-start",
                        timeZone: "Asia/Tokyo",
                    },
                ],
                [
                    "night-gateway-stop",
                    {
                        autoscalingGroupName: "eks-frontend-dev-gateway-mock-asg",
                        desiredCapacity: 0,
                        maxSize: 0,
                        minSize: 0,
                        recurrence: "0 21 * * 1-5",
                        scheduledActionName: "gateway-stop",
                        timeZone: "Asia/Tokyo",
                    },
                ],
                [
                    "night-worker-start",
                    {
                        autoscalingGroupName: "eks-frontend-dev-worker-mock-asg",
                        desiredCapacity: 2,
                        maxSize: 4,
                        minSize: 1,
                        recurrence: "0 8 * * 1-5",
                        scheduledActionName: "worker-start",
                        timeZone: "Asia/Tokyo",
                    },
                ],
                [
                    "night-worker-stop",
                    {
                        autoscalingGroupName: "eks-frontend-dev-worker-mock-asg",
                        desiredCapacity: 0,
                        maxSize: 0,
                        minSize: 0,
                        recurrence: "0 21 * * 1-5",
                        scheduledActionName: "worker-stop",
                        timeZone: "Asia/Tokyo",
                    },
                ],
            ],
        );
        // The data stores stay: the schedule touches node groups only.
        for (const schedule of resourcesOfType(result, "aws:autoscaling/schedule:Schedule")) {
            assert.match(schedule.dependencies.join(" "), /aws:eks\/nodeGroup:NodeGroup::frontend-dev-(gateway|worker)$/);
        }
    });

    it("is absent in production and refused there by the configuration", async () => {
        const result = await runStack("production");
        assert.equal(resourcesOfType(result, "aws:autoscaling/schedule:Schedule").length, 0);
        assert.equal(resourcesOfType(result, "bff-platform:schedule:NightSchedule").length, 0);
        const configMap = {
            ...stackFile("production").configMap,
            "bff-platform:schedule": JSON.stringify({ stopCron: "0 21 * * 1-5", startCron: "0 8 * * 1-5", timeZone: "Asia/Tokyo" }),
        };
        assert.deepEqual(configProblems(configMap), [
            "bff-platform:schedule: production is never stopped at night: remove the schedule from this stack",
        ]);
    });
});

describe("platform configuration rules", () => {
    it("refuses static assets without the stack's bucket, overlapping prefixes and aliases without a certificate", () => {
        assert.deepEqual(configProblems(without(stackFile("dev").configMap, "staticAssets")), [
            "bff-platform:services[pc-web].staticAssets: pc-web uploads static assets, but the stack has no staticAssets section (bucket and CDN)",
        ]);
        const overlapping = editConfig(stackFile("production").configMap, "services", (services) => {
            services.find((s: any) => s.name === "sp-web").staticAssets.prefix = "pc-web/sp";
            return services;
        });
        assert.deepEqual(configProblems(overlapping), [
            'bff-platform:services[sp-web].staticAssets.prefix: "pc-web/sp" overlaps "pc-web" of pc-web: each service writes below a prefix of its own',
        ]);
        const noCertificate = editConfig(stackFile("production").configMap, "staticAssets", (assets) => {
            delete assets.certificateArn;
            return assets;
        });
        assert.deepEqual(configProblems(noCertificate), [
            "bff-platform:staticAssets.certificateArn: is required with aliases: CloudFront serves a custom host name only with its certificate",
        ]);
    });

    it("refuses image: ecr in a stack without ECR repositories", () => {
        const configMap = editConfig(stackFile("dev").configMap, "services", (services) => {
            services[0].image = "ecr";
            return services;
        });
        assert.deepEqual(configProblems(configMap), [
            `bff-platform:services[pc-web].image: "ecr" names the service's ECR repository, but ecr.enabled is not true in this stack`,
        ]);
    });

    it("needs either the existing network's ids or network.create, never both", () => {
        assert.deepEqual(
            configProblems(
                editConfig(stackFile("qa").configMap, "cluster", (cluster) => {
                    delete cluster.vpcId;
                    delete cluster.privateSubnetIds;
                    return cluster;
                }),
            ),
            [
                "bff-platform:cluster.vpcId: is required unless network.create is true: name the existing network the cluster runs in",
                "bff-platform:cluster.privateSubnetIds: is required unless network.create is true: name the existing network the cluster runs in",
            ],
        );
        const both = {
            ...stackFile("qa").configMap,
            "bff-platform:network": JSON.stringify({
                create: true,
                cidr: "10.30.0.0/16",
                availabilityZones: ["ap-northeast-1a", "ap-northeast-1c"],
            }),
        };
        assert.deepEqual(configProblems(both), [
            "bff-platform:cluster.vpcId: must be left out with network.create: true: the cluster runs in the VPC this stack creates",
            "bff-platform:cluster.privateSubnetIds: must be left out with network.create: true: the cluster runs in the VPC this stack creates",
        ]);
        assert.deepEqual(configProblems(withNetwork("qa", { create: true })), [
            "bff-platform:network.cidr: is required with network.create: true",
            "bff-platform:network.availabilityZones: is required with network.create: true",
        ]);
        assert.deepEqual(
            configProblems(withNetwork("qa", { create: true, cidr: "10.30.1.0/16", availabilityZones: ["ap-northeast-1a"] })).sort(),
            [
                "bff-platform:network.availabilityZones: must have at least 2 items, got 1 (must list at least two availability zones: EKS and load balancers need subnets in two)",
                "bff-platform:network.cidr: has host bits set: the network address of a /16 ends in a multiple of 65536",
            ],
        );
        assert.deepEqual(
            configProblems(
                withNetwork("qa", { create: true, cidr: "10.30.0.0/24", availabilityZones: ["ap-northeast-1a", "ap-northeast-1a"] }),
            ),
            [
                "bff-platform:network.cidr: /24 is outside /16../22: AWS allows VPCs of /16 to /28, and each public subnet is 1/64 of the VPC (at least the /28 AWS allows)",
                "bff-platform:network.availabilityZones: lists an availability zone twice",
            ],
        );
    });
});

describe("network of the stack's own", () => {
    it("cuts the VPC into large private and small public subnets per AZ", () => {
        assert.deepEqual(subnetPlan("10.20.0.0/16", ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]), [
            { availabilityZone: "ap-northeast-1a", privateCidr: "10.20.0.0/19", publicCidr: "10.20.224.0/22" },
            { availabilityZone: "ap-northeast-1c", privateCidr: "10.20.32.0/19", publicCidr: "10.20.228.0/22" },
            { availabilityZone: "ap-northeast-1d", privateCidr: "10.20.64.0/19", publicCidr: "10.20.232.0/22" },
        ]);
        assert.deepEqual(subnetPlan("10.30.4.0/22", ["ap-northeast-1a", "ap-northeast-1c"]), [
            { availabilityZone: "ap-northeast-1a", privateCidr: "10.30.4.0/25", publicCidr: "10.30.7.128/28" },
            { availabilityZone: "ap-northeast-1c", privateCidr: "10.30.4.128/25", publicCidr: "10.30.7.144/28" },
        ]);
    });

    it("builds the VPC, tagged subnets, NAT per AZ and the endpoints, and runs the cluster, nodes and cache in it", async () => {
        const result = await run(
            withNetwork("production", {
                create: true,
                cidr: "10.20.0.0/16",
                availabilityZones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
            }),
            "up",
            "production",
        );
        assert.deepEqual(findResource(result, "aws:ec2/vpc:Vpc", "network").inputs, {
            cidrBlock: "10.20.0.0/16",
            enableDnsHostnames: true,
            enableDnsSupport: true,
            tags: { Name: "frontend-production-vpc", environment: "production", "managed-by": "pulumi", project: "bff-platform" },
        });
        const subnets = resourcesOfType(result, "aws:ec2/subnet:Subnet");
        const roleTags = subnets.map((s) => {
            const tags = s.inputs.tags as Record<string, string>;
            return [
                s.inputs.cidrBlock,
                s.inputs.availabilityZone,
                tags["kubernetes.io/role/elb"] ?? "-",
                tags["kubernetes.io/role/internal-elb"] ?? "-",
                tags["kubernetes.io/cluster/frontend-production"],
            ];
        });
        assert.deepEqual(roleTags, [
            ["10.20.0.0/19", "ap-northeast-1a", "-", "1", "shared"],
            ["10.20.32.0/19", "ap-northeast-1c", "-", "1", "shared"],
            ["10.20.64.0/19", "ap-northeast-1d", "-", "1", "shared"],
            ["10.20.224.0/22", "ap-northeast-1a", "1", "-", "shared"],
            ["10.20.228.0/22", "ap-northeast-1c", "1", "-", "shared"],
            ["10.20.232.0/22", "ap-northeast-1d", "1", "-", "shared"],
        ]);
        assert.equal(resourcesOfType(result, "aws:ec2/natGateway:NatGateway").length, 3);
        const privateRoutes = ["a", "c", "d"].map(
            (zone) => (findResource(result, "aws:ec2/routeTable:RouteTable", `network-private-ap-northeast-1${zone}`).inputs as any).routes,
        );
        assert.deepEqual(privateRoutes, [
            [{ cidrBlock: "0.0.0.0/0", natGatewayId: "network-ap-northeast-1a-id" }],
            [{ cidrBlock: "0.0.0.0/0", natGatewayId: "network-ap-northeast-1c-id" }],
            [{ cidrBlock: "0.0.0.0/0", natGatewayId: "network-ap-northeast-1d-id" }],
        ]);
        assert.deepEqual(
            resourcesOfType(result, "aws:ec2/vpcEndpoint:VpcEndpoint").map((e) => [
                e.inputs.serviceName,
                e.inputs.vpcEndpointType,
                e.inputs.privateDnsEnabled ?? "-",
            ]),
            [
                ["com.amazonaws.ap-northeast-1.ecr.api", "Interface", true],
                ["com.amazonaws.ap-northeast-1.ecr.dkr", "Interface", true],
                ["com.amazonaws.ap-northeast-1.logs", "Interface", true],
                ["com.amazonaws.ap-northeast-1.s3", "Gateway", "-"],
                ["com.amazonaws.ap-northeast-1.sts", "Interface", true],
            ],
        );
        assert.deepEqual(findResource(result, "aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3").inputs.routeTableIds, [
            "network-private-ap-northeast-1a-id",
            "network-private-ap-northeast-1c-id",
            "network-private-ap-northeast-1d-id",
        ]);
        const https = findResource(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "network-endpoints-https").inputs;
        assert.deepEqual([https.ipProtocol, https.fromPort, https.toPort, https.cidrIpv4], ["tcp", 443, 443, "10.20.0.0/16"]);

        const privateIds = [
            "network-private-ap-northeast-1a-id",
            "network-private-ap-northeast-1c-id",
            "network-private-ap-northeast-1d-id",
        ];
        assert.deepEqual(
            (findResource(result, "aws:eks/cluster:Cluster", "frontend-production").inputs as any).vpcConfig.subnetIds,
            privateIds,
        );
        for (const group of resourcesOfType(result, "aws:eks/nodeGroup:NodeGroup")) {
            assert.deepEqual(group.inputs.subnetIds, privateIds, group.name);
        }
        assert.deepEqual(
            findResource(result, "aws:elasticache/subnetGroup:SubnetGroup", "frontend-production-ratelimit").inputs.subnetIds,
            privateIds,
        );
        assert.equal(
            findResource(result, "aws:ec2/securityGroup:SecurityGroup", "frontend-production-ratelimit").inputs.vpcId,
            "network-id",
        );
        assert.equal(result.outputs.vpcId, "network-id");
        // The AWS Load Balancer Controller is told the created VPC.
        const controller = resourcesOfType(result, "kubernetes:helm.sh/v3:Release").find((r) =>
            r.name.includes("aws-load-balancer-controller"),
        );
        assert.equal((controller?.inputs.values as Record<string, unknown> | undefined)?.vpcId, "network-id");
    });

    it("routes every AZ through one NAT gateway when natGateways is single", async () => {
        const result = await run(
            withNetwork("qa", {
                create: true,
                cidr: "10.30.0.0/16",
                availabilityZones: ["ap-northeast-1a", "ap-northeast-1c"],
                natGateways: "single",
            }),
            "up",
            "qa",
        );
        assert.deepEqual(
            resourcesOfType(result, "aws:ec2/natGateway:NatGateway").map((n) => n.name),
            ["network-ap-northeast-1a"],
        );
        for (const zone of ["a", "c"]) {
            assert.deepEqual(
                (findResource(result, "aws:ec2/routeTable:RouteTable", `network-private-ap-northeast-1${zone}`).inputs as any).routes,
                [{ cidrBlock: "0.0.0.0/0", natGatewayId: "network-ap-northeast-1a-id" }],
            );
        }
    });

    it("is not created for the committed stacks, which run on existing VPCs", async () => {
        for (const stack of ["dev", "production"]) {
            assert.equal(resourcesOfType(await runStack(stack), "aws:ec2/vpc:Vpc").length, 0, stack);
        }
        const cluster = findResource(await runStack("production"), "aws:eks/cluster:Cluster", "frontend-production");
        assert.deepEqual((cluster.inputs as any).vpcConfig.subnetIds, [
            "subnet-0a1b2c3d4e5f60001",
            "subnet-0a1b2c3d4e5f60002",
            "subnet-0a1b2c3d4e5f60003",
        ]);
    });
});

describe("monthly cost estimate", () => {
    // Expected figures worked out by hand from the price table (ap-northeast-1, 730 hours):
    // EKS 0.10 × 730 = 73; gateway c6i.2xlarge 0.428 × 730 = 312.44 per node, × 3 = 937.32, × 6 = 1,874.64;
    // worker c6i.4xlarge 0.856 × 730 = 624.88, × 6 = 3,749.28, × 30 = 18,746.40; system m6i.large 0.124 × 730 = 90.52,
    // × 2 = 181.04, × 3 = 271.56; ElastiCache cache.m7g.large 0.206 × 730 × 2 = 300.76.
    // Totals: 5,241.40 at minimum, 21,266.36 at maximum.
    it("prices production's nodes at minimum and maximum, the control plane and ElastiCache", () => {
        const { config } = parseStackConfig(stackFile("production").configMap, "production");
        const section = costSection(config).join("\n");
        for (const line of [
            "| EKS control plane | $73 | $73 | standard support |",
            "| node pool gateway (c6i.2xlarge, on-demand) | $937 | $1,875 | 3..6 nodes |",
            "| node pool worker (c6i.4xlarge, on-demand) | $3,749 | $18,746 | 6..30 nodes |",
            "| node pool system (m6i.large, on-demand) | $181 | $272 | 2..3 nodes |",
            "| ElastiCache cache.m7g.large × 2 | $301 | $301 | rate-limit counters |",
            "| **total** | **$5,241** | **$21,266** | |",
        ]) {
            assert.ok(section.includes(`\n${line}\n`), `missing: ${line}\n${section}`);
        }
        assert.match(section, /Usage-based and not included: CloudFront, S3, data transfer/);
        assert.equal(section.includes("NAT gateway"), false, "production's network is not this stack's");
        assert.equal(budgetWarning(config), undefined, "within its 25,000 budget");
    });

    it("prices dev's spot pools at the dearest type of each pool", () => {
        // gateway: max(0.039, 0.038, 0.035) × 730 = 28.47, × 2 = 56.94; worker: max(0.078, 0.076, 0.070) × 730 = 56.94, × 4 = 227.76.
        const { config } = parseStackConfig(stackFile("dev").configMap, "dev");
        const estimate = estimateMonthlyCost(config);
        assert.deepEqual(
            estimate.lines.map((l) => [l.item, Math.round(l.min * 100) / 100, Math.round(l.max * 100) / 100]),
            [
                ["EKS control plane", 73, 73],
                ["node pool gateway (c6i.large, c5.large, c6a.large, spot)", 28.47, 56.94],
                ["node pool worker (c6i.xlarge, c5.xlarge, c6a.xlarge, spot)", 56.94, 227.76],
            ],
        );
    });

    it("counts the NAT gateways and interface endpoints of a network the stack creates", () => {
        // 3 NAT gateways: 0.062 × 730 × 3 = 135.78; 4 endpoints in 3 AZs: 0.014 × 730 × 12 = 122.64.
        const perAz = parseStackConfig(
            withNetwork("production", {
                create: true,
                cidr: "10.20.0.0/16",
                availabilityZones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
            }),
            "production",
        ).config;
        const section = costSection(perAz).join("\n");
        assert.ok(section.includes("\n| NAT gateway × 3 | $136 | $136 | plus data processed |\n"), section);
        assert.ok(section.includes("\n| VPC interface endpoints × 4 in 3 AZs | $123 | $123 |"), section);
        // 5,241.40 + 135.78 + 122.64 = 5,499.82; 21,266.36 + 258.42 = 21,524.78.
        assert.ok(section.includes("| **total** | **$5,500** | **$21,525** | |"), section);
        // One NAT gateway: 0.062 × 730 = 45.26.
        const single = parseStackConfig(
            withNetwork("qa", {
                create: true,
                cidr: "10.30.0.0/16",
                availabilityZones: ["ap-northeast-1a", "ap-northeast-1c"],
                natGateways: "single",
            }),
            "qa",
        ).config;
        assert.deepEqual(
            estimateMonthlyCost(single)
                .lines.filter((l) => l.item.startsWith("NAT"))
                .map((l) => [l.item, Math.round(l.max * 100) / 100]),
            [["NAT gateway × 1", 45.26]],
        );
        assert.equal(
            estimateMonthlyCost(perAz, 0).lines.some((l) => l.item.startsWith("NAT")),
            false,
            "the parameter overrides the count",
        );
    });

    it("warns in synth and in the report when the estimate at maximum exceeds the budget", () => {
        const { config } = parseStackConfig(
            editConfig(stackFile("production").configMap, "cost", () => ({ monthlyBudgetUsd: 20000 })),
            "production",
        );
        const warning = "over budget: up to $21,266 a month at maximum node counts, budget $20,000 (cost.monthlyBudgetUsd)";
        assert.equal(budgetWarning(config), warning);
        assert.ok(costSection(config).includes(`**${warning}**`));
        const { config: unbudgeted } = parseStackConfig(without(stackFile("production").configMap, "cost"), "production");
        assert.equal(budgetWarning(unbudgeted), undefined);
    });
});
