"""The Azure target: the viewer (and files such as studies) on Front Door Standard/Premium in front of
private blob storage, and the DICOMweb proxy and Keycloak on hardened VMs that only this profile's Front
Door can reach.

    browser --HTTPS--> Front Door (one profile) --managed identity--> blob container (private)
                          +-- own endpoint, CORS --managed identity--> files' blob container (private)
                          +-- /dicom-web/* --Private Link, HTTP + X-Azure-FDID--> proxy VM (nginx) --> your archive
                          +-- own endpoint --Private Link, HTTP + X-Azure-FDID--> Keycloak VM
                                                                                  (nginx, Keycloak, PostgreSQL)

The VMs have no public address: Front Door Premium reaches each through a Private Link service in front of an
internal load balancer, in the stack's subnet or a network of the target's own (network.py).

`AzureTarget` (target.py) implements components.target.Target; each module holds one component.
"""
