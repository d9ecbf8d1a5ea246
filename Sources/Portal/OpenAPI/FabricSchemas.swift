import Core
import Fabric

/// Component schemas of the fabric: switches, cabling, per-port state, tenant networks.
enum FabricSchemas: SchemaVocabulary {
    private static let portName = matching("^[A-Za-z0-9._:/-]{1,15}$")

    static let all: [String: JSONValue] = [
        "Cable": object(["port": portName, "node": nonEmpty, "nodeInterface": matching("^[A-Za-z0-9._:@-]{1,15}$")], required: ["port", "node", "nodeInterface"]),
        "SwitchDefinition": object([
            "name": matching("^[A-Za-z0-9._-]{1,63}$"), "driver": enumeration(["linux", "recording"]), "endpoint": matching(FabricService.endpointPattern),
            "token": text(16, 4096), "cabling": array(ref("Cable")),
        ], required: ["name", "driver", "endpoint", "token"]),
        "CablingRequest": object(["cabling": array(ref("Cable"))], required: ["cabling"]),
        "SwitchStatus": object(["inSync": boolean, "observedAt": nullableInteger, "lastError": nullableString, "drift": array(string),
                                "repairs": integer, "lastRepairAt": nullableInteger]),
        "PortView": object(["port": string, "node": nullableString, "mode": enumeration(["access", "trunk"]), "desiredVLANs": array(integer),
                            "observedVLANs": array(integer), "desiredAddresses": array(string), "observedAddresses": array(string), "inSync": boolean,
                            "neighbor": nullableString, "cablingCheck": enumeration(["confirmed", "mismatch", "unverified"])]),
        "Switch": object(["id": string, "name": string, "driver": string, "endpoint": string, "cabling": array(ref("Cable")),
                          "status": ref("SwitchStatus"), "ports": array(ref("PortView"))]),
        "SwitchList": list("Switch"),
        "FabricPass": object(["switches": array(object(["switchName": string, "changedPorts": integer, "drift": array(string), "error": nullableString]))]),
        "TenantNetwork": object(["tenantId": string, "tenantNetwork": string, "vrfs": array(object([
            "id": string, "poolId": string, "number": integer, "tenantId": string, "vlans": array(object([
                "id": string, "poolId": string, "vlanId": integer, "vrfId": string, "subnet": nullableString,
                "members": array(object(["nodeId": string, "nodeName": string, "address": string, "network": enumeration(["programmed", "pending", "failed"])])),
            ])),
        ]))]),
    ]
}
