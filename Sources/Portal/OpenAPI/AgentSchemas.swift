import Core
import NodeContract

/// Component schemas of node agents, the model store and model instances.
enum AgentSchemas {
    private static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }

    private static func ref(_ name: String) -> JSONValue { .object(["$ref": .string("#/components/schemas/\(name)")]) }
    private static func array(_ item: JSONValue) -> JSONValue { .object(["type": "array", "items": item]) }
    private static func list(_ item: String) -> JSONValue { object(["items": array(ref(item)), "nextCursor": nullableString], required: ["items"]) }
    private static func enumeration(_ values: [String]) -> JSONValue { .object(["type": "string", "enum": .array(values.map { .string($0) })]) }

    private static let string: JSONValue = .object(["type": "string"])
    private static let nullableString: JSONValue = .object(["type": .array(["string", "null"])])
    private static let integer: JSONValue = .object(["type": "integer"])
    private static let nullableInteger: JSONValue = .object(["type": .array(["integer", "null"])])
    private static let number: JSONValue = .object(["type": "number"])
    private static let nullableNumber: JSONValue = .object(["type": .array(["number", "null"])])
    private static let boolean: JSONValue = .object(["type": "boolean"])
    private static let engines = enumeration(EngineKind.allCases.map(\.rawValue))
    private static let phases = enumeration(["staging", "starting", "warmingUp", "ready", "failed", "stopped"])

    static let all: [String: JSONValue] = [
        "JoinTokenRequest": object(["singleUse": boolean, "ttlSeconds": integer, "description": string]),
        "JoinToken": object(["id": string, "singleUse": boolean, "expiresAt": nullableInteger, "uses": integer, "description": nullableString,
                             "createdAt": integer, "revoked": boolean]),
        "MintedJoinToken": object(["joinToken": ref("JoinToken"), "token": string]),
        "JoinTokenList": object(["items": array(ref("JoinToken"))]),
        "InventoryReport": object(["cpuModel": nullableString, "cpuCores": integer, "memoryMiB": integer,
                                   "accelerators": array(ref("Accelerator")), "disks": array(string), "nics": array(string)],
                                  required: ["cpuCores", "memoryMiB", "accelerators", "disks", "nics"]),
        "RegistrationRequest": object(["contractVersion": integer, "joinToken": string, "nodeCredential": string, "hostname": string,
                                       "nodeName": string, "agentVersion": string, "nodeAPIURL": string, "inventory": ref("InventoryReport")],
                                      required: ["contractVersion", "hostname", "agentVersion", "inventory"]),
        "RegistrationResponse": object(["agentId": string, "sessionId": string, "sessionToken": string, "nodeCredential": nullableString,
                                        "heartbeatSeconds": number, "telemetrySeconds": number, "contractVersion": integer]),
        "InstanceStatus": object(["instanceId": string, "modelId": string, "phase": phases, "endpoint": nullableString, "restarts": integer,
                                  "lastError": nullableString], required: ["instanceId", "modelId", "phase", "restarts"]),
        "StagingStatus": object(["modelId": string, "bytesDone": integer, "bytesTotal": integer, "resumedBytes": integer, "bytesPerSecond": number,
                                 "etaSeconds": .object(["type": .array(["number", "null"])]), "done": boolean, "error": nullableString]),
        "StorageSummary": object(["models": array(object(["modelId": string, "bytes": integer, "lastUsedAt": nullableInteger, "in_use": boolean])),
                                  "eventLogBytes": integer, "eventLogCountingOnly": boolean, "freeBytes": integer]),
        "ObservedState": object(["instances": array(ref("InstanceStatus")), "staging": array(ref("StagingStatus")), "storage": ref("StorageSummary")],
                                required: ["instances", "staging"]),
        "HeartbeatRequest": object(["observed": ref("ObservedState")], required: ["observed"]),
        "InstanceSpec": object(["instanceId": string, "modelId": string, "engine": engines, "arguments": array(string), "devices": array(integer),
                                "vendor": nullableString, "companions": array(string)]),
        "HeartbeatResponse": object(["desired": object(["instances": array(ref("InstanceSpec"))]),
                                     "commands": array(.object(["type": "object", "description": "{\"purgeStaging\": {id, modelId}} or {\"restart\": {id}}"]))]),
        "PurgeRequest": object(["modelId": string]),
        "PurgeBroadcast": object(["nodes": integer, "modelId": nullableString]),
        "Agent": object(["id": string, "sessionId": string, "hostname": string, "nodeId": nullableString, "state": enumeration(["online", "lost"]),
                         "agentVersion": nullableString, "apiURL": nullableString, "inventory": ref("InventoryReport"),
                         "observed": ref("ObservedState"), "registeredAt": integer, "lastSeenAt": integer]),
        "AgentList": list("Agent"),
        "ModelIDList": object(["items": array(string)]),
        "ModelManifest": object(["modelId": string, "files": array(object(["path": string, "bytes": integer, "sha256": string]))]),
        "Binary": .object(["type": "string", "format": "binary"]),
        "InstanceRequest": object(["agentId": string, "modelId": string, "engine": engines, "arguments": array(string), "devices": array(integer),
                                   "vendor": enumeration(["nvidia", "amd", "intel"]), "companions": array(string), "projectId": string],
                                  required: ["agentId", "modelId", "engine"]),
        "ModelInstance": object(["id": string, "agentId": string, "projectId": nullableString, "modelId": string, "engine": engines,
                                 "arguments": array(string), "devices": array(integer), "vendor": nullableString, "companions": array(string),
                                 "desired": enumeration(["running", "stopped"]), "phase": phases, "endpoint": nullableString, "restarts": integer,
                                 "lastError": nullableString, "createdAt": integer, "updatedAt": integer, "version": integer]),
        "ModelInstanceList": list("ModelInstance"),
        "Empty": object([:]),
        "WipeReport": object(["commandId": string, "erased": array(string), "bytes": integer, "error": string], required: ["commandId", "erased", "bytes"]),
        "TelemetryBatch": object([
            "at": integer, "intervalSeconds": number, "cpuUtilization": nullableNumber,
            "models": array(object(["modelId": string, "instanceId": string, "tokensServed": integer, "requests": integer,
                                    "latencyP50Seconds": nullableNumber, "latencyP95Seconds": nullableNumber, "tokensPerSecond": number,
                                    "queueDepth": nullableInteger, "kvCacheHitRate": nullableNumber])),
            "thermal": object(["packageCelsius": nullableNumber, "coreCelsius": array(number), "acceleratorCelsius": array(number),
                               "fanRPM": array(number), "throttleEvents": nullableInteger]),
            "memory": object(["totalMiB": integer, "availableMiB": integer, "swapUsedMiB": integer, "cacheHitRate": nullableNumber,
                              "swapInPages": integer, "swapOutPages": integer, "majorFaults": integer, "kvEvictions": nullableInteger]),
            "power": object(["source": nullableString, "packageWatts": nullableNumber, "acceleratorWatts": nullableNumber]),
        ], required: ["at", "intervalSeconds", "models", "thermal", "memory", "power"]),
        "TelemetryList": object(["items": array(ref("TelemetryBatch"))]),
        "AlertReport": object(["correlationId": string, "severity": enumeration(["info", "warning", "critical"]), "kind": string, "message": string,
                               "value": number, "threshold": number, "at": integer],
                              required: ["correlationId", "severity", "kind", "message", "value", "threshold", "at"]),
        "AlertUpload": object(["alerts": array(ref("AlertReport"))], required: ["alerts"]),
        "NodeAlert": object(["id": string, "agentId": string, "correlationId": string, "severity": string, "kind": string, "message": string,
                             "value": number, "threshold": number, "at": integer, "receivedAt": integer]),
        "AlertList": list("NodeAlert"),
    ]
}
