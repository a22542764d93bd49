"""What the example stacks expect to find in the account: the team's network, a certificate,
the APP_KEY parameter, the deploy role, the test database and its users' secrets, and Bref's
public layers (published in Bref's own account, as on AWS)."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from emulator.server import Emulator

VPC_CIDR = "10.0.0.0/16"
DOMAIN_NAME = "app.example.com"
DEPLOY_ROLE_NAME = "example-laravel-deploy"
TEST_DATABASE = "laravel-testing"
TEST_SECRETS = {"app": "AbC123", "migrator": "DeF456"}
PARAMETERS = ("/example-laravel/app-key", "/example-laravel/testing-app-key")


@dataclass
class Network:
    """One region's VPC: three private and three public subnets, and security groups."""

    vpc_id: str
    private_subnet_ids: list[str]
    public_subnet_ids: list[str]
    function_security_group_ids: list[str]
    database_security_group_id: str


@dataclass
class Account:
    """Everything seeded, by region; ``values`` are the Terraform inputs of the examples."""

    networks: dict[str, Network] = field(default_factory=dict)
    certificate_arn: str = ""
    parameter_arns: dict[str, str] = field(default_factory=dict)
    secret_arns: dict[str, str] = field(default_factory=dict)


def seed_network(emulator: Emulator, region: str) -> Network:
    """A VPC with subnets in three zones and a security group for functions and tasks."""
    ec2 = emulator.client("ec2", region)
    vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
    subnets: list[str] = []
    for index in range(6):
        zone = f"{region}{'abc'[index % 3]}"
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{index}.0/24",
                                   AvailabilityZone=zone)
        subnets.append(subnet["Subnet"]["SubnetId"])
    groups = [ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]
              for name in ("example-functions", "example-test-database")]
    return Network(vpc_id, subnets[:3], subnets[3:], groups[:1], groups[1])


def _self_signed(domain: str) -> tuple[bytes, bytes]:
    """A certificate and key for ``domain`` (ImportCertificate is ISSUED at once)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), False)
                   .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def seed_account(emulator: Emulator, regions: list[str]) -> Account:
    """Network per region, and the account-wide inputs (certificate in us-east-1)."""
    account = Account()
    for region in regions:
        account.networks[region] = seed_network(emulator, region)
        ssm = emulator.client("ssm", region)
        for name in PARAMETERS:
            ssm.put_parameter(Name=name, Value="base64:" + "A" * 44, Type="SecureString",
                              Overwrite=True)
            arn = ssm.get_parameter(Name=name)["Parameter"]["ARN"]
            account.parameter_arns[f"{region}:{name}"] = arn
        _seed_test_database(emulator, region, account)
    certificate, key = _self_signed(DOMAIN_NAME)
    account.certificate_arn = emulator.client("acm", "us-east-1").import_certificate(
        Certificate=certificate, PrivateKey=key)["CertificateArn"]
    emulator.client("iam", "us-east-1").create_role(
        RoleName=DEPLOY_ROLE_NAME, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
    return account


def _seed_test_database(emulator: Emulator, region: str, account: Account) -> None:
    """The test runner's existing database and its two users' secrets."""
    network = account.networks[region]
    rds = emulator.client("rds", region)
    group = f"{TEST_DATABASE}-subnets"
    rds.create_db_subnet_group(DBSubnetGroupName=group, DBSubnetGroupDescription=group,
                               SubnetIds=network.private_subnet_ids)
    rds.create_db_instance(
        DBInstanceIdentifier=TEST_DATABASE, DBInstanceClass="db.t4g.medium", Engine="postgres",
        MasterUsername="postgres", MasterUserPassword="not-a-real-password-1",
        AllocatedStorage=20, DBSubnetGroupName=group,
        VpcSecurityGroupIds=[network.database_security_group_id])
    secrets = emulator.client("secretsmanager", region)
    for user, suffix in TEST_SECRETS.items():
        secret = secrets.create_secret(
            Name=f"{TEST_DATABASE}/{user}", SecretString=json.dumps(
                {"username": user, "password": f"{user}-password-not-real"}),
            Tags=[{"Key": "_custom_id_", "Value": suffix}])
        account.secret_arns[f"{region}:{user}"] = secret["ARN"]


def layer_zip() -> bytes:
    """A stand-in layer: Bref's layout with an empty ``bin/php``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bin/php", "")
    return buffer.getvalue()


def publish_layers(emulator: Emulator, layer_arns: list[str]) -> None:
    """Publish each layer ARN's name up to its version, in the account and region it names."""
    wanted: dict[tuple[str, str, str], int] = {}
    for arn in layer_arns:
        _, _, _, region, account, _, name, version = arn.split(":")
        key = (account, region, name)
        wanted[key] = max(wanted.get(key, 0), int(version))
    for (account, region, name), version in sorted(wanted.items()):
        client = _client_in(emulator, "lambda", region, account)
        published = client.list_layer_versions(LayerName=name)["LayerVersions"]
        for _ in range(len(published), version):
            client.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip()},
                                         CompatibleRuntimes=["provided.al2023", "provided.al2"])


def _client_in(emulator: Emulator, service: str, region: str, account: str) -> Any:
    """A client acting in another account, through credentials of an assumed role there."""
    import boto3

    sts = emulator.client("sts", region)
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/layer-publisher",
                                  RoleSessionName="emulator-seed")["Credentials"]
    return boto3.client(service, region_name=region, endpoint_url=emulator.endpoint,
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])
