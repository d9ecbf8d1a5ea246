import Core
import Foundation
import Storage

/// What a node costs and what the API alternative would: the inputs of every cost figure. Set for the platform and,
/// where a tenant differs, for the tenant (its settings then replace the platform's whole).
public struct CostSettings: Sendable, Codable, Equatable {
    /// Price of energy, $ per kWh.
    public var pricePerKWh: Double
    /// A node's purchase price, $, amortised over `serviceMonths`.
    public var nodePurchasePrice: Double
    public var serviceMonths: Double
    /// Hosting, network and support per node, $ per month.
    public var monthlyOverhead: Double
    /// A node's declared draw at full load, W, used where the node reports no measured power; at idle it draws
    /// `idleShare` of it, in between in proportion to its CPU utilisation.
    public var declaredWatts: Double
    public var idleShare: Double
    /// The API alternative's price per million tokens, by a substring of the model id (the longest match wins;
    /// `default` where none matches). Illustrative defaults: set the prices you compare against.
    public var apiPricePerMillion: [String: Double]
    /// Expected requests per second of a model (by model id), for the weekly review's "above projection" rule; a model
    /// without one is compared with an even share of the cluster's traffic.
    public var projectedQPS: [String: Double]

    public static let standard = CostSettings(
        pricePerKWh: 0.15, nodePurchasePrice: 250_000, serviceMonths: 36, monthlyOverhead: 1_500, declaredWatts: 6_000, idleShare: 0.3,
        apiPricePerMillion: ["default": 0.60, "405b": 3.00, "70b": 0.88, "32b": 0.80, "8b": 0.18, "7b": 0.18, "3b": 0.10, "1b": 0.05,
                             "360m": 0.03, "135m": 0.02],
        projectedQPS: [:])

    /// Hours in an average month (365.25 × 24 / 12), for monthly amounts.
    public static let hoursPerMonth = 730.5

    /// The API price per million tokens for `modelID`, and the key it matched.
    public func apiPrice(for modelID: String) -> (key: String, price: Double) {
        let id = modelID.lowercased()
        let match = apiPricePerMillion.keys.filter { $0 != "default" && id.contains($0.lowercased()) }.max { $0.count < $1.count }
        if let match { return (match, apiPricePerMillion[match]!) }
        return ("default", apiPricePerMillion["default"] ?? 0)
    }

    /// The largest amount a setting takes (the API document says the same).
    static let largest = 1e12

    /// Checks the values a person sets.
    public func validated() throws -> CostSettings {
        for (name, value) in [("pricePerKWh", pricePerKWh), ("nodePurchasePrice", nodePurchasePrice), ("monthlyOverhead", monthlyOverhead),
                              ("declaredWatts", declaredWatts)] where !(value >= 0 && value <= Self.largest) {
            throw ReportError.invalidSetting(field: name, reason: "must be a number from 0 to 10^12")
        }
        guard serviceMonths > 0, serviceMonths <= 1200 else { throw ReportError.invalidSetting(field: "serviceMonths", reason: "must be above 0 and at most 1200") }
        guard (0...1).contains(idleShare) else { throw ReportError.invalidSetting(field: "idleShare", reason: "must be from 0 to 1") }
        for (key, price) in apiPricePerMillion where !(price >= 0 && price <= Self.largest) || key.isEmpty {
            throw ReportError.invalidSetting(field: "apiPricePerMillion", reason: "each price must be a number from 0 to 10^12 under a non-empty key")
        }
        for (key, qps) in projectedQPS where !(qps >= 0 && qps <= Self.largest) || key.isEmpty {
            throw ReportError.invalidSetting(field: "projectedQPS", reason: "each projection must be a number from 0 to 10^12 under a model id")
        }
        return self
    }
}

/// Where cost settings are kept: `platform`, or `tenant:<id>`.
public final class CostSettingsStore: Sendable {
    let database: any Database
    let clock: WallClock

    public init(database: any Database, clock: WallClock) {
        self.database = database
        self.clock = clock
    }

    /// The settings in force for `tenantID` (nil: the platform's), and where they come from.
    public func effective(tenantID: String?) async throws -> (settings: CostSettings, source: String) {
        try await database.read { connection in
            for scope in [tenantID.map { "tenant:" + $0 }, "platform"].compactMap({ $0 }) {
                if let text = try connection.query("SELECT settings FROM cost_settings WHERE scope = ?", [.text(scope)]).first?.string("settings"),
                   let settings = try? JSONDecoder().decode(CostSettings.self, from: Data(text.utf8)) {
                    return (settings, scope)
                }
            }
            return (CostSettings.standard, "default")
        }
    }

    /// Sets the platform's settings (`tenantID` nil) or a tenant's.
    public func set(_ settings: CostSettings, tenantID: String?) async throws -> CostSettings {
        let checked = try settings.validated()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(checked), as: UTF8.self)
        let scope = tenantID.map { "tenant:" + $0 } ?? "platform"
        let now = clock.nowMillis()
        try await database.write { connection in
            try connection.execute("DELETE FROM cost_settings WHERE scope = ?", [.text(scope)])
            try connection.execute("INSERT INTO cost_settings (scope, settings, updated_at) VALUES (?, ?, ?)", [.text(scope), .text(text), .integer(now)])
        }
        return checked
    }

    /// Forgets a tenant's own settings: the platform's apply again.
    public func clear(tenantID: String) async throws {
        try await database.write { try $0.execute("DELETE FROM cost_settings WHERE scope = ?", [.text("tenant:" + tenantID)]) }
    }
}
