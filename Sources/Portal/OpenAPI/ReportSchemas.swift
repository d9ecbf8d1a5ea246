import Core

/// Component schemas of the cost model and the reports, and of sessions.
enum ReportSchemas: SchemaVocabulary {
    private static func amount(_ max: Double = 1e12) -> JSONValue { .object(["type": "number", "minimum": 0, "maximum": .double(max)]) }
    private static let prices: JSONValue = .object(["type": "object", "additionalProperties": amount(), "propertyNames": .object(["minLength": 1])])

    static let all: [String: JSONValue] = [
        "CostSettings": object([
            "pricePerKWh": amount(), "nodePurchasePrice": amount(), "monthlyOverhead": amount(), "declaredWatts": amount(),
            "serviceMonths": .object(["type": "number", "exclusiveMinimum": 0, "maximum": 1200]), "idleShare": amount(1),
            "apiPricePerMillion": prices, "projectedQPS": prices,
        ], required: ["pricePerKWh", "nodePurchasePrice", "serviceMonths", "monthlyOverhead", "declaredWatts", "idleShare", "apiPricePerMillion", "projectedQPS"]),
        "CostSettingsAnswer": object(["settings": ref("CostSettings"), "source": string]),
        "CostReport": object([
            "nodes": array(.object(["type": "object"])), "models": array(.object(["type": "object"])), "totalCost": number, "totalTokens": number,
            "idleCost": number, "weightedPerMillionTokens": nullableNumber, "apiWeightedPerMillionTokens": nullableNumber, "savingsPercent": nullableNumber,
            "settings": ref("CostSettings"), "settingsSource": string,
        ]),
        "ReportRequest": object([
            "kind": enumeration(["weekly", "monthly"]),
            "at": .object(["type": "integer", "minimum": 0, "maximum": 32_503_680_000_000,
                           "description": "any time inside the period, ms since 1970; default: the last complete week or month"]),
        ], required: ["kind"]),
        "StoredReport": object(["id": string, "tenantId": string, "kind": enumeration(["weekly", "monthly"]), "periodStart": integer, "periodEnd": integer,
                                "createdAt": integer, "trigger": string, "hasPdf": boolean]),
        "StoredReportList": list("StoredReport"),
        "ReportFigures": object(["report": ref("StoredReport"), "figures": .object(["type": "object"])]),
        "PDFDocument": string,
        "SessionInfo": object(["id": string, "clientId": string, "source": nullableString, "startedAt": integer, "lastUsedAt": nullableInteger,
                               "expiresAt": integer]),
        "SessionList": object(["items": array(ref("SessionInfo"))]),
        "SessionsEnded": object(["ended": integer]),
        "PasswordPolicy": object(["minLength": integer(8, 256), "history": integer(0, 24),
                                  "expiryDays": .object(["type": .array(["integer", "null"]), "minimum": 1, "maximum": 3650])],
                                 required: ["minLength", "history"]),
        "PasswordChange": object(["username": username, "password": text(1, 1024), "newPassword": text(8, 1024)],
                                 required: ["username", "password", "newPassword"]),
        "LockoutList": object(["items": array(object(["subject": string, "failures": integer, "lockedUntil": integer, "locked": boolean]))]),
    ]
}
