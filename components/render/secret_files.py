"""Secrets a VM gets apart from its cloud-init, on either cloud: files (path: content) as one JSON document, which a
small writer on the VM turns back into files only root can read.

User data (AWS) and custom data (Azure) are readable from the VM's metadata service by any process on it, and by
whoever may describe the VM, so no secret travels there. On AWS the document is a Secrets Manager secret that only
the VM's role may read, fetched at boot (components/aws/vm_secrets.py); on Azure it is a Key Vault secret that only
the VM's identity may read, fetched at boot (components/azure/vm_secrets.py), or a CustomScript extension's protected
settings (components/azure/keycloak_host.py). Either way it lands on the VM's encrypted disk, mode 0600.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

WRITER_PATH = "/usr/local/sbin/ohif-write-secrets"
# Written by hand: a dozen lines of the VM's own Python 3 (cloud-init runs on it), where a tool would be a package.
WRITER = '''\
#!/usr/bin/python3
"""Writes the secret files in the JSON document on stdin ({path: content}), each mode 0600, replaced whole."""
import json, os, sys

for path, content in json.load(sys.stdin).items():
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    partial = path + ".partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content)
    os.replace(partial, path)
'''


def secret_document(files: dict[str, str]) -> str:
    """The secret files as the one document the writer reads."""
    return json.dumps(files, sort_keys=True)


def writer_file() -> dict:
    """The writer, as a cloud-init `write_files` entry (nothing secret in it)."""
    return {"path": WRITER_PATH, "permissions": "0755", "content": WRITER}


@dataclass(frozen=True)
class SecretFetch:
    """How a VM gets its secret files at boot: a shell command cloud-init runs, and the packages it needs."""

    command: str
    packages: tuple[str, ...] = ()


def _written_retrying(read: str) -> str:
    """`read` (a command that prints the document) piped to the writer, retried for five minutes: a new role, or a
    new role assignment, can take a little while to be usable."""
    return f"for i in $(seq 30); do {read} | {WRITER_PATH} && exit 0; sleep 10; done; exit 1"


def from_secrets_manager(secret_arn: str) -> SecretFetch:
    """Fetch the document from AWS Secrets Manager with the instance role (Debian's AWS CLI) and write the files."""
    region = secret_arn.split(":")[3]
    fetch = shlex.join(["aws", "--region", region, "secretsmanager", "get-secret-value", "--secret-id", secret_arn,
                        "--query", "SecretString", "--output", "text"])
    return SecretFetch(command=_written_retrying(fetch), packages=("awscli",))


# Written by hand, in the VM's own Python 3: Key Vault's REST API is two calls, where its SDK or Azure's CLI would be a
# package to install. IMDS gives the VM's managed identity a token for Key Vault; the secret's value is the document.
_KEY_VAULT_READ = """\
import json, sys, urllib.request
def get(url, headers):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as reply:
        return json.load(reply)
token = get("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
            "&resource=https%3A%2F%2Fvault.azure.net", {"Metadata": "true"})["access_token"]
sys.stdout.write(get(sys.argv[1] + "?api-version=7.4", {"Authorization": "Bearer " + token})["value"])
"""


def from_key_vault(secret_url: str) -> SecretFetch:
    """Fetch the document from an Azure Key Vault secret (https://<vault>.vault.azure.net/secrets/<name>) with the
    VM's managed identity, and write the files."""
    return SecretFetch(command=_written_retrying(shlex.join(["python3", "-c", _KEY_VAULT_READ, secret_url])))
