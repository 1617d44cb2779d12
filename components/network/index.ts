/**
 * A network of the stack's own (`bff-platform:network:Network`, with `network.create: true`): a
 * VPC over two or more availability zones, with, in each AZ, a private subnet for the nodes (and
 * their pods' addresses) and a public subnet for internet-facing load balancers and NAT gateways.
 *
 * - Subnet role tags for the AWS Load Balancer Controller's subnet discovery: public subnets
 *   `kubernetes.io/role/elb: "1"`, private ones `kubernetes.io/role/internal-elb: "1"`
 *   (https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/subnet_discovery/);
 *   `kubernetes.io/cluster/<cluster>: shared` too, which controllers up to v2.1.1 required.
 * - Egress from the private subnets through a NAT gateway per AZ (`perAz`) or one for all (`single`).
 * - VPC endpoints, so image pulls, credentials and logs stay inside AWS's network and off the NAT's
 *   per-GB charge: S3 as a gateway endpoint on the private route tables (ECR keeps image layers in
 *   S3), and interface endpoints with private DNS for ECR API, ECR Docker registry, STS and
 *   CloudWatch Logs (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html).
 *   Private DNS needs the VPC's `enableDnsSupport` and `enableDnsHostnames`. Their security group
 *   admits HTTPS (443) from the VPC's CIDR only.
 */
import { aws } from "../shared";
import * as pulumi from "@pulumi/pulumi";
import { subnetPlan } from "./subnets";

export * from "./subnets";

export interface NetworkArgs {
    /** VPC CIDR, /16 to /22 (checked by the config schema). */
    cidr: string;
    /** Two or more availability zones of the stack's region. */
    availabilityZones: string[];
    natGateways: "single" | "perAz";
    /** EKS cluster name: the subnets' cluster tag and the Name tags. */
    clusterName: string;
    /** AWS region of the endpoints' service names. */
    region: string;
    tags?: Record<string, string>;
}

/** Interface endpoints, by the last part of their service name (`com.amazonaws.<region>.<service>`). */
export const INTERFACE_ENDPOINTS = ["ecr.api", "ecr.dkr", "sts", "logs"] as const;

export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    /** Private subnets, one per AZ in the order given: the cluster's and its nodes'. */
    readonly privateSubnetIds: pulumi.Output<string>[];
    readonly publicSubnetIds: pulumi.Output<string>[];
    /** Number of NAT gateways created (the cost estimate counts them). */
    readonly natGatewayCount: number;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:network:Network", name, {}, opts);
        const parent = { parent: this };
        const tagged = (suffix: string, extra: Record<string, string> = {}) => ({
            ...args.tags,
            Name: `${args.clusterName}-${suffix}`,
            ...extra,
        });
        const clusterTag = { [`kubernetes.io/cluster/${args.clusterName}`]: "shared" };

        const vpc = new aws.ec2.Vpc(
            name,
            { cidrBlock: args.cidr, enableDnsSupport: true, enableDnsHostnames: true, tags: tagged("vpc") },
            parent,
        );
        const internetGateway = new aws.ec2.InternetGateway(name, { vpcId: vpc.id, tags: tagged("igw") }, parent);
        const publicRoutes = new aws.ec2.RouteTable(
            `${name}-public`,
            { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id }], tags: tagged("public") },
            parent,
        );

        const plan = subnetPlan(args.cidr, args.availabilityZones);
        const publicSubnets = plan.map(({ availabilityZone, publicCidr }) => {
            const subnet = new aws.ec2.Subnet(
                `${name}-public-${availabilityZone}`,
                {
                    vpcId: vpc.id,
                    cidrBlock: publicCidr,
                    availabilityZone,
                    // Only load balancers and NAT gateways live here; nothing gets a public address by default.
                    mapPublicIpOnLaunch: false,
                    tags: tagged(`public-${availabilityZone}`, { ...clusterTag, "kubernetes.io/role/elb": "1" }),
                },
                parent,
            );
            new aws.ec2.RouteTableAssociation(
                `${name}-public-${availabilityZone}`,
                { subnetId: subnet.id, routeTableId: publicRoutes.id },
                parent,
            );
            return subnet;
        });

        const natZones = args.natGateways === "single" ? plan.slice(0, 1) : plan;
        const natGateways = natZones.map(({ availabilityZone }, i) => {
            const address = new aws.ec2.Eip(
                `${name}-nat-${availabilityZone}`,
                { domain: "vpc", tags: tagged(`nat-${availabilityZone}`) },
                parent,
            );
            return new aws.ec2.NatGateway(
                `${name}-${availabilityZone}`,
                { allocationId: address.id, subnetId: publicSubnets[i].id, tags: tagged(`nat-${availabilityZone}`) },
                // A NAT gateway needs the internet gateway attached first (AWS provider docs).
                { parent: this, dependsOn: [internetGateway] },
            );
        });
        this.natGatewayCount = natGateways.length;

        const privateRouteTables: aws.ec2.RouteTable[] = [];
        const privateSubnets = plan.map(({ availabilityZone, privateCidr }, i) => {
            const subnet = new aws.ec2.Subnet(
                `${name}-private-${availabilityZone}`,
                {
                    vpcId: vpc.id,
                    cidrBlock: privateCidr,
                    availabilityZone,
                    tags: tagged(`private-${availabilityZone}`, { ...clusterTag, "kubernetes.io/role/internal-elb": "1" }),
                },
                parent,
            );
            // Each AZ its own table: its own NAT gateway (perAz), or the single one.
            const nat = natGateways[Math.min(i, natGateways.length - 1)];
            const routes = new aws.ec2.RouteTable(
                `${name}-private-${availabilityZone}`,
                { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: tagged(`private-${availabilityZone}`) },
                parent,
            );
            privateRouteTables.push(routes);
            new aws.ec2.RouteTableAssociation(
                `${name}-private-${availabilityZone}`,
                { subnetId: subnet.id, routeTableId: routes.id },
                parent,
            );
            return subnet;
        });

        new aws.ec2.VpcEndpoint(
            `${name}-s3`,
            {
                vpcId: vpc.id,
                serviceName: `com.amazonaws.${args.region}.s3`,
                vpcEndpointType: "Gateway",
                routeTableIds: privateRouteTables.map((t) => t.id),
                tags: tagged("s3"),
            },
            parent,
        );
        const endpointGroup = new aws.ec2.SecurityGroup(
            `${name}-endpoints`,
            {
                name: `${args.clusterName}-vpc-endpoints`,
                description: "VPC interface endpoints: HTTPS from the VPC",
                vpcId: vpc.id,
                tags: tagged("vpc-endpoints"),
            },
            parent,
        );
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-endpoints-https`,
            {
                securityGroupId: endpointGroup.id,
                description: "HTTPS from the VPC",
                ipProtocol: "tcp",
                fromPort: 443,
                toPort: 443,
                cidrIpv4: args.cidr,
                tags: tagged("vpc-endpoints"),
            },
            parent,
        );
        for (const service of INTERFACE_ENDPOINTS) {
            new aws.ec2.VpcEndpoint(
                `${name}-${service.replace(".", "-")}`,
                {
                    vpcId: vpc.id,
                    serviceName: `com.amazonaws.${args.region}.${service}`,
                    vpcEndpointType: "Interface",
                    privateDnsEnabled: true,
                    subnetIds: privateSubnets.map((s) => s.id),
                    securityGroupIds: [endpointGroup.id],
                    tags: tagged(service.replace(".", "-")),
                },
                parent,
            );
        }

        this.vpcId = vpc.id;
        this.privateSubnetIds = privateSubnets.map((s) => s.id);
        this.publicSubnetIds = publicSubnets.map((s) => s.id);
        this.registerOutputs({ vpcId: this.vpcId });
    }
}
