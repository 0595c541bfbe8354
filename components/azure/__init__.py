"""The Azure target: the viewer (and files such as studies) on Front Door Standard/Premium in front of
private blob storage, and the DICOMweb proxy and Keycloak on hardened VMs that only this profile's Front
Door can reach.

    browser --HTTPS--> Front Door (one profile) --managed identity--> blob container (private)
                          +-- own endpoint, CORS --managed identity--> files' blob container (private)
                          +-- /dicom-web/* --HTTP + X-Azure-FDID--> proxy VM (nginx) --> your archive
                          +-- own endpoint --HTTP + X-Azure-FDID--> Keycloak VM (nginx, Keycloak, PostgreSQL)

`AzureTarget` (target.py) implements components.target.Target; each module holds one component.
"""
