import Core
import Foundation
import Provisioner
import Reports
import Scheduler
import Telemetry
import Tenancy

/// Gathers what a tenant's report is computed from: the history the modules recorded (node and agent events, instance
/// events, evictions, incidents) and the telemetry of the period, plus the cost settings in force.
enum ReportGathering {
    static func inputs(_ services: ControllerServices, tenant: Tenant, from: Int64, to: Int64) async throws -> ReportInputs {
        // The nodes the tenant held at any time in the period (its history), and those it holds now (held since before history began).
        let allEvents = try await services.nodes.history(from: from, to: to)
        var held = Set(allEvents.filter { $0.tenantID == tenant.id }.map(\.nodeID))
        var names: [String: String] = [:]
        var cursor: String?
        repeat {
            let page = try await services.nodes.nodes(NodeFilter(tenantID: tenant.id), page: PageRequest(limit: PageRequest.maxLimit, after: cursor))
            for node in page.items { names[node.id] = node.name }
            cursor = page.nextCursor == nil ? nil : page.items.last?.id
        } while cursor != nil
        held.formUnion(names.keys)
        // Nodes the tenant held earlier in the period but no longer: looked up one by one (few).
        for id in held where names[id] == nil { names[id] = (try? await services.nodes.node(id))?.name ?? id }
        var agentNodes: [String: String] = [:]
        cursor = nil
        repeat {
            let page = try await services.agents.agents(page: PageRequest(limit: PageRequest.maxLimit, after: cursor))
            for agent in page.items { if let node = agent.nodeId { agentNodes[agent.id] = node } }
            cursor = page.nextCursor == nil ? nil : page.items.last?.id
        } while cursor != nil
        let instanceEvents = try await services.instances.history(from: from, to: to).filter { held.contains(agentNodes[$0.agentID] ?? "") }
        var incidents: [Incident] = []
        cursor = nil
        repeat {
            let page = try await services.incidents.list(tenantID: tenant.id, page: PageRequest(limit: PageRequest.maxLimit, after: cursor))
            incidents += page.items.filter { $0.detectedAt >= from && $0.detectedAt < to }
            cursor = page.nextCursor == nil ? nil : page.items.last?.id
        } while cursor != nil
        // Whole days already rolled up come from the daily rollups (thirty rows a series for a month); the rest from the samples.
        let day: Int64 = 86_400_000
        let rolledUntil = min(try await services.telemetry.firstUnrolledDay() ?? 0, to / day * day)
        let dailyFrom = (from + day - 1) / day * day
        let useDaily = dailyFrom < rolledUntil
        var samples: [String: [ReportInputs.Series]] = [:]
        let filter = SeriesFilter(tenantID: tenant.id)
        for metric in ReportInputs.metrics {
            var series: [ReportInputs.Series] = []
            let rawRanges = useDaily ? [(from, dailyFrom), (rolledUntil, to)] : [(from, to)]
            for (start, end) in rawRanges where start < end {
                series += try await services.telemetry.samples(metric: metric, filter: filter, from: start, to: end)
                    .map { ReportInputs.Series(labels: $0.labels, samples: $0.samples) }
            }
            if useDaily {
                let rollups = try await services.telemetry.daily(metric: metric, filter: filter, from: dailyFrom, to: rolledUntil)
                for (labels, days) in Dictionary(grouping: rollups, by: \.labels) {
                    series.append(ReportInputs.Series(labels: labels, points: days.map {
                        .init(at: $0.day, sum: $0.total, count: $0.samples, largest: $0.largest)
                    }))
                }
            }
            samples[metric] = series
        }
        // The router's own count of the requests each model answered on each node (its latency histograms).
        var routerRequests: [String: [String: Double]] = [:]
        for (node, models) in Dictionary(grouping: instanceEvents, by: { agentNodes[$0.agentID] ?? "" }).mapValues({ Set($0.map(\.modelID)) }) where !node.isEmpty {
            for model in models {
                let count = try await services.telemetry.latency(filter: SeriesFilter(nodeID: node, modelID: model, tenantID: tenant.id), from: from, to: to,
                                                                 step: nil, cold: []).range.requests
                if count > 0 { routerRequests[node, default: [:]][model] = Double(count) }
            }
        }
        let settings = try await services.costSettings.effective(tenantID: tenant.id)
        var inputs = ReportInputs(tenantID: tenant.id, tenantName: tenant.name, periodStart: from, periodEnd: to, nodeNames: names,
                            nodeEvents: allEvents.filter { held.contains($0.nodeID) }, instanceEvents: instanceEvents, agentNodes: agentNodes,
                            evictions: try await services.agents.evictions(from: from, to: to, nodeIDs: Array(held)), incidents: incidents,
                            samples: samples, settings: settings.settings, settingsSource: settings.source)
        inputs.routerRequests = routerRequests
        return inputs
    }

    /// The week (Monday 00:00 UTC to the next) holding `time`, and the month (the 1st, 00:00 UTC, to the next) holding it.
    static func week(containing time: Int64) -> (start: Int64, end: Int64) {
        let day: Int64 = 86_400_000
        let days = time / day
        // 1970-01-01 was a Thursday: Monday is day 4 of that week's cycle.
        let monday = (days - ((days + 3) % 7)) * day
        return (monday, monday + 7 * day)
    }

    static func month(containing time: Int64) -> (start: Int64, end: Int64) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date(timeIntervalSince1970: Double(time) / 1000)
        let start = calendar.date(from: calendar.dateComponents([.year, .month], from: date))!
        let end = calendar.date(byAdding: .month, value: 1, to: start)!
        return (Int64(start.timeIntervalSince1970 * 1000), Int64(end.timeIntervalSince1970 * 1000))
    }

    /// The placement rules' preview of each recommended move: the model placed in its project's fleet as it is now, with
    /// the throttling node excluded.
    static func previewMoves(_ recommendations: [Recommendation], inputs: ReportInputs, services: ControllerServices) async -> [Recommendation] {
        var result: [Recommendation] = []
        for var advice in recommendations {
            defer { result.append(advice) }
            guard advice.kind == .moveOff, let model = advice.model, let node = advice.node,
                  let project = inputs.instanceEvents.last(where: { $0.modelID == model && $0.projectID != nil })?.projectID,
                  let card = try? await services.modelStore.card(model), let fleet = try? await ProjectFleet.load(services, projectID: project) else { continue }
            let excluded = Set(fleet.nodes.filter { $0.name == node }.map(\.id))
            let previews = Placement.previews(card.placementModel, maxNodes: min(fleet.nodes.count, 8), excluded: excluded, nodes: fleet.nodes)
            if let shards = previews.lazy.compactMap({ try? $0.result.get() }).first {
                advice.preview = shards.map { "\($0.nodeName) (\($0.layers) layers, \($0.neededBytes / 1_048_576) MiB of \(($0.freeBytesBefore) / 1_048_576) MiB free)" }
                    .joined(separator: ", ")
            } else {
                let refusals: [String] = previews.compactMap { preview -> String? in
                    if case .failure(let refusal) = preview.result { return refusal.message }
                    return nil
                }
                advice.previewRefusal = refusals.first ?? "no other node"
            }
        }
        return result
    }

    /// Makes, keeps and answers a tenant's report for the period holding `time`.
    static func make(_ services: ControllerServices, tenant: Tenant, kind: StoredReport.Kind, containing time: Int64, trigger: String) async throws -> (StoredReport?, Data) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        switch kind {
        case .weekly:
            let week = week(containing: time)
            let current = try await Self.inputs(services, tenant: tenant, from: week.start, to: week.end)
            let previous = try await Self.inputs(services, tenant: tenant, from: week.start - 7 * 86_400_000, to: week.start)
            var review = WeeklyReview.compute(week: current, previous: previous)
            review.recommendations = await previewMoves(review.recommendations, inputs: current, services: services)
            let figures = try encoder.encode(review)
            return (try await services.reports.save(tenantID: tenant.id, kind: .weekly, periodStart: week.start, periodEnd: week.end, trigger: trigger,
                                                    figures: figures, pdf: nil), figures)
        case .monthly:
            let month = month(containing: time)
            let current = try await Self.inputs(services, tenant: tenant, from: month.start, to: month.end)
            var report = MonthlyReport.compute(current)
            report.recommendations = await previewMoves(report.recommendations, inputs: current, services: services)
            let document = ReportDocument.typst(report, daily: ReportDocument.DailySeries(current))
            let pdf = try await ReportDocument.render(source: document.source, files: document.files, workers: services.workers)
            let figures = try encoder.encode(report)
            return (try await services.reports.save(tenantID: tenant.id, kind: .monthly, periodStart: month.start, periodEnd: month.end, trigger: trigger,
                                                    figures: figures, pdf: pdf), figures)
        }
    }
}
