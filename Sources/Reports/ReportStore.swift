import Core
import Foundation
import Storage

/// A report as kept: which cluster and period, when and why it was made, its figures (JSON) and whether it has a PDF.
public struct StoredReport: Sendable, Codable, Equatable, RowDecodable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case weekly
        case monthly
    }

    public var id: String
    public var tenantId: String
    public var kind: Kind
    public var periodStart: Int64
    public var periodEnd: Int64
    public var createdAt: Int64
    /// `schedule` (the 1st of the month, Mondays) or `request`.
    public var trigger: String
    public var hasPDF: Bool

    public init(row: Row) throws {
        id = try row.string("id")
        tenantId = try row.string("tenant_id")
        kind = Kind(rawValue: try row.string("kind")) ?? .monthly
        periodStart = try row.int64("period_start")
        periodEnd = try row.int64("period_end")
        createdAt = try row.int64("created_at")
        trigger = try row.string("trigger")
        hasPDF = try row.optionalString("pdf") != nil
    }

    enum CodingKeys: String, CodingKey { case id, tenantId, kind, periodStart, periodEnd, createdAt, trigger, hasPDF = "hasPdf" }
}

/// Reports kept in the store (a PDF is tens of kilobytes, kept base64 beside its figures, so backups carry them).
public final class ReportStore: Sendable {
    let database: any Database
    let clock: WallClock

    public init(database: any Database, clock: WallClock) {
        self.database = database
        self.clock = clock
    }

    /// Keeps a report; a scheduled one already kept for the same cluster, kind and period is not made twice (answers nil).
    public func save(tenantID: String, kind: StoredReport.Kind, periodStart: Int64, periodEnd: Int64, trigger: String, figures: Data,
                     pdf: Data?) async throws -> StoredReport? {
        let now = clock.nowMillis()
        let id = Identifier.make("rpt", at: now)
        return try await database.write { connection in
            do {
                try connection.execute(
                    "INSERT INTO reports (id, tenant_id, kind, period_start, period_end, created_at, trigger, figures, pdf) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [.text(id), .text(tenantID), .text(kind.rawValue), .integer(periodStart), .integer(periodEnd), .integer(now),
                     .text(trigger == "schedule" ? "schedule" : "request:" + id), .text(String(decoding: figures, as: UTF8.self)),
                     .text(pdf?.base64EncodedString())])
            } catch StoreError.uniqueViolation {
                return nil
            }
            return try connection.queryFirst(StoredReport.self, "SELECT id, tenant_id, kind, period_start, period_end, created_at, trigger, CASE WHEN pdf IS NULL THEN NULL ELSE '' END AS pdf FROM reports WHERE id = ?", [.text(id)])
        }
    }

    /// A cluster's reports, newest period first.
    public func list(tenantID: String, kind: StoredReport.Kind?, page: PageRequest) async throws -> Page<StoredReport> {
        var sql = "SELECT id, tenant_id, kind, period_start, period_end, created_at, trigger, CASE WHEN pdf IS NULL THEN NULL ELSE '' END AS pdf FROM reports WHERE tenant_id = ? AND id > ?"
        var parameters: [SQLValue] = [.text(tenantID), .text(page.after ?? "")]
        if let kind { sql += " AND kind = ?"; parameters.append(.text(kind.rawValue)) }
        sql += " ORDER BY id LIMIT ?"
        parameters.append(.int(page.limit + 1))
        let (query, values) = (sql, parameters)
        return Page(fetched: try await database.read { try $0.query(StoredReport.self, query, values) }, request: page, key: \.id)
    }

    /// One report's figures (JSON) and PDF.
    public func content(_ id: String, tenantID: String) async throws -> (report: StoredReport, figures: Data, pdf: Data?) {
        let row = try await database.read {
            try $0.query("SELECT * FROM reports WHERE id = ? AND tenant_id = ?", [.text(id), .text(tenantID)]).first
        }
        guard let row else { throw ReportError.reportNotFound(id) }
        return (try StoredReport(row: row), Data(try row.string("figures").utf8), try row.optionalString("pdf").flatMap { Data(base64Encoded: $0) })
    }

    /// Whether the schedule already made this cluster's report for this period.
    public func scheduled(tenantID: String, kind: StoredReport.Kind, periodStart: Int64) async throws -> Bool {
        try await database.read {
            try $0.query("SELECT 1 FROM reports WHERE tenant_id = ? AND kind = ? AND period_start = ? AND trigger = 'schedule'",
                         [.text(tenantID), .text(kind.rawValue), .integer(periodStart)]).first != nil
        }
    }
}
