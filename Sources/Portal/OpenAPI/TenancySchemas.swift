import Core
import Provisioner

/// Component schemas of tenants, orgs, projects, quotas, invitations and pools.
enum TenancySchemas {
    private static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }

    private static func ref(_ name: String) -> JSONValue { .object(["$ref": .string("#/components/schemas/\(name)")]) }
    private static func array(_ item: JSONValue) -> JSONValue { .object(["type": "array", "items": item]) }
    private static func list(_ item: String) -> JSONValue { object(["items": array(ref(item)), "nextCursor": nullableString], required: ["items"]) }

    private static let string: JSONValue = .object(["type": "string"])
    private static let nullableString: JSONValue = .object(["type": .array(["string", "null"])])
    private static let integer: JSONValue = .object(["type": "integer"])
    private static let nullableInteger: JSONValue = .object(["type": .array(["integer", "null"])])
    private static let status: JSONValue = .object(["type": "string", "enum": ["active", "archived"]])

    static let all: [String: JSONValue] = [
        "QuotaResources": object([
            "accelerators": .object(["type": "object", "additionalProperties": integer,
                                     "description": "vendor/model → count, vendor one of nvidia, amd, intel (e.g. nvidia/H100)"]),
            "acceleratorMemoryGiB": integer, "nodes": integer, "clusters": integer, "vlans": integer, "vrfs": integer,
        ]),
        "QuotaReport": object(["quota": .object(["type": "object", "additionalProperties": object([
            "limit": nullableInteger, "used": integer, "assignedToChildren": integer])])]),
        "NewTenant": object([
            "name": string, "slug": string,
            "admin": object(["username": string, "email": string], required: ["username"]),
            "quota": ref("QuotaResources"),
            "network": object(["vrfs": integer, "vlansPerVrf": integer, "vrfPool": string, "vlanPool": string]),
        ], required: ["name", "slug", "admin"]),
        "Tenant": object([
            "id": string, "name": string, "slug": string,
            "status": .object(["type": "string", "enum": ["onboarding", "ready", "failed", "suspended"]]),
            "realmId": nullableString, "adminUserId": nullableString, "failedStep": nullableString, "error": nullableString,
            "createdAt": integer, "updatedAt": integer, "version": integer,
        ]),
        "TenantList": list("Tenant"),
        "OnboardingStep": object([
            "step": .object(["type": "string", "enum": ["domain_created", "realm_provisioned", "admin_created", "network_allocated", "quotas_set", "ready"]]),
            "position": integer, "state": .object(["type": "string", "enum": ["pending", "running", "done", "failed"]]),
            "startedAt": nullableInteger, "finishedAt": nullableInteger, "attempts": integer, "error": nullableString,
        ]),
        "OnboardingSteps": object(["steps": array(ref("OnboardingStep"))]),
        "OnboardingResult": object(["tenant": ref("Tenant"), "steps": array(ref("OnboardingStep")), "adminInvitation": ref("IssuedInvitation")]),
        "DeletionSummary": object(["tenantId": string, "orgs": integer, "projects": integer, "vrfsReleased": integer, "vlansReleased": integer]),
        "IssuedInvitation": object(["id": string, "username": string, "role": string, "scope": string, "token": string,
                                    "expiresAt": integer, "acceptPath": string]),
        "NewInvitation": object(["username": string, "email": string, "role": string, "scope": string], required: ["username", "role"]),
        "Invitation": object(["id": string, "tenantId": string, "userId": string, "username": string, "role": string, "scope": string,
                              "expiresAt": integer, "acceptedAt": nullableInteger, "revokedAt": nullableInteger, "createdBy": string, "createdAt": integer]),
        "InvitationList": list("Invitation"),
        "AcceptInvitation": object(["token": string, "password": string], required: ["token", "password"]),
        "AcceptedInvitation": object(["username": string, "realm": string, "tokenEndpoint": string]),
        "NewNode": object(["name": string, "slug": string], required: ["name", "slug"]),
        "NodePatch": object(["name": string, "status": status]),
        "Org": object(["id": string, "tenantId": string, "name": string, "slug": string, "status": status, "createdAt": integer, "version": integer]),
        "OrgList": list("Org"),
        "Project": object(["id": string, "tenantId": string, "orgId": string, "name": string, "slug": string, "status": status,
                           "createdAt": integer, "version": integer]),
        "ProjectList": list("Project"),
        "VLAN": object(["id": string, "poolId": string, "vlanId": integer, "vrfId": string]),
        "VRF": object(["id": string, "poolId": string, "number": integer, "tenantId": string, "vlans": array(ref("VLAN"))]),
        "TenantNetwork": object(["vrfs": array(ref("VRF"))]),
        "VLANList": object(["vlans": array(ref("VLAN"))]),
        "VRFList": object(["vrfs": array(ref("VRF"))]),
        "NetworkRequest": object(["count": integer, "vrfId": string, "pool": string]),
        "PoolDefinition": object(["name": string, "fabric": string, "rangeStart": integer, "rangeEnd": integer, "reserved": array(integer)],
                                 required: ["name", "rangeStart", "rangeEnd"]),
        "PoolResize": object(["rangeStart": integer, "rangeEnd": integer, "reserved": array(integer)]),
        "Pool": object(["id": string, "kind": .object(["type": "string", "enum": ["vrf", "vlan"]]), "name": string, "fabric": string,
                        "rangeStart": integer, "rangeEnd": integer, "reserved": array(integer), "size": integer, "allocated": integer,
                        "createdAt": integer, "version": integer]),
        "PoolList": list("Pool"),
        "NodeEnrollment": object(["name": string, "rack": string, "fabric": string, "accelerators": array(ref("Accelerator")),
                                  "bmc": object(["address": string, "username": string, "password": string, "verifyTLS": .object(["type": "boolean"])],
                                                required: ["address", "username", "password"])], required: ["name", "bmc"]),
        "Node": object(["id": string, "name": string, "state": string, "allowedActions": array(string),
                        "bmc": object(["address": string, "username": string, "verifyTLS": .object(["type": "boolean"])]),
                        "rack": nullableString, "fabric": nullableString, "tenantId": nullableString, "projectId": nullableString,
                        "inventory": .object(["type": .array(["object", "null"])]), "lastError": nullableString,
                        "accelerators": array(ref("Accelerator")), "vlans": array(integer),
                        "agentInventory": .object(["oneOf": [ref("InventoryReport"), .object(["type": "null"])]]), "inventoryNotes": array(string),
                        "createdAt": integer, "updatedAt": integer, "version": integer]),
        "NodeList": list("Node"),
        "NodeOperation": object(["id": string, "nodeId": string, "kind": string, "state": string, "progress": nullableString,
                                 "error": nullableString, "attempts": integer, "createdAt": integer, "updatedAt": integer]),
        "NodeOperations": object(["operations": array(ref("NodeOperation"))]),
        "NodeLinks": object(["links": array(object(["peerId": string, "peerName": string,
                                                    "kind": .object(["type": "string", "enum": .array(NodeLink.kinds.map { .string($0) })])]))]),
        "NodeLinksRequest": object(["links": array(object(["node": string, "kind": .object(["type": "string", "enum": .array(NodeLink.kinds.map { .string($0) })])],
                                                          required: ["node", "kind"]))], required: ["links"]),
        "MaintenanceRequest": object(["enabled": .object(["type": "boolean"])], required: ["enabled"]),
        "PowerRequest": object(["action": .object(["type": "string", "enum": ["on", "off", "shutdown", "restart", "reset"]])], required: ["action"]),
        "PowerState": object(["powerState": string]),
        "Accelerator": object(["vendor": string, "model": string, "memoryMiB": integer, "count": integer, "interconnect": string]),
        "AllocationRequest": object(["vendor": string, "model": string, "count": integer, "nodeNames": array(string)]),
        "TenantNode": object(["id": string, "name": string, "state": string, "fabric": nullableString, "rack": nullableString,
                              "accelerators": array(ref("Accelerator")), "vlans": array(integer), "projectId": nullableString]),
        "TenantNodeList": list("TenantNode"),
        "DeployRequest": object(["imageURL": string, "checksum": .object(["type": "string", "pattern": "^sha256:[0-9a-fA-F]{64}$"])],
                                required: ["imageURL", "checksum"]),
        "AllocationResult": object(["nodes": array(ref("TenantNode")), "consumed": .object(["type": "object", "additionalProperties": integer]),
                                    "fabric": nullableString]),
    ]
}
