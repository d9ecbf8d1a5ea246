import ArgumentParser
import Foundation
import NIOHTTP1

/// `metalplane incidents …`: incidents from detection to review, and where they are announced (docs/telemetry.md).
struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents", abstract: "Incidents: list, show, open, acknowledge, investigate, resolve, review; notification targets.",
        subcommands: [List.self, Show.self, Open.self, Acknowledge.self, Investigate.self, Resolve.self, Review.self, Targets.self, AddTarget.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Incidents, newest first.")
        @Option(help: "detected, acknowledged, investigating, resolved or reviewed.") var state: String?
        @Option(help: "critical, high, medium or low.") var severity: String?
        @Option(help: "A tenant's incidents, through its own route (tenant admins), by slug or id.") var tenant: String?
        func run() async throws {
            let query = [("state", state), ("severity", severity)].compactMap { name, value in value.map { "\(name)=\($0)" } }.joined(separator: "&")
            let base = tenant.map { "/api/v1/tenants/\($0)/incidents" } ?? "/api/v1/incidents"
            try await CLIClient.call(.GET, base + (query.isEmpty ? "" : "?" + query))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One incident, with its timeline.")
        @Argument(help: "The incident's id.") var id: String
        func run() async throws {
            try await CLIClient.call(.GET, "/api/v1/incidents/\(id)")
            try await CLIClient.call(.GET, "/api/v1/incidents/\(id)/timeline")
        }
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open an incident by hand.")
        @Argument(help: "What is wrong.") var title: String
        @Option(help: "critical, high, medium or low (default medium).") var severity = "medium"
        @Option(help: "The node it is about (id or name).") var node: String?
        func run() async throws {
            var body: [String: Any] = ["title": title, "severity": severity]
            if let node { body["nodeId"] = node }
            try await CLIClient.call(.POST, "/api/v1/incidents", body: body)
        }
    }

    struct Acknowledge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ack", abstract: "Take an incident: detected → acknowledged.")
        @Argument(help: "The incident's id.") var id: String
        @Option(help: "Who owns it (default: you).") var owner: String?
        @Option(help: "A note for the timeline.") var note: String?
        func run() async throws {
            var body: [String: Any] = [:]
            if let owner { body["owner"] = owner }
            if let note { body["note"] = note }
            try await CLIClient.call(.POST, "/api/v1/incidents/\(id)/acknowledge", body: body)
        }
    }

    struct Investigate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "acknowledged → investigating.")
        @Argument(help: "The incident's id.") var id: String
        @Option(help: "A note for the timeline.") var note: String?
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/incidents/\(id)/investigate", body: note.map { ["note": $0] } ?? [:]) }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "acknowledged or investigating → resolved.")
        @Argument(help: "The incident's id.") var id: String
        @Option(help: "A note for the timeline.") var note: String?
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/incidents/\(id)/resolve", body: note.map { ["note": $0] } ?? [:]) }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "resolved → reviewed: the post-incident review (cause, fix; the timeline is frozen with it).")
        @Argument(help: "The incident's id.") var id: String
        @Option(help: "What caused it.") var cause: String
        @Option(help: "What fixed it.") var fix: String
        @Option(help: "A summary.") var summary: String?
        func run() async throws {
            var body: [String: Any] = ["cause": cause, "fix": fix]
            if let summary { body["summary"] = summary }
            try await CLIClient.call(.POST, "/api/v1/incidents/\(id)/review", body: body)
        }
    }

    struct Targets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Where incidents are announced.")
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/notification-targets") }
    }

    struct AddTarget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-target",
                                                        abstract: "Announce incidents: add-target NAME webhook|alertmanager URL (an Alertmanager's base URL).")
        @Argument(help: "The target's name.") var name: String
        @Argument(help: "webhook (Alertmanager's webhook payload) or alertmanager (its API).") var kind: String
        @Argument(help: "The URL.") var url: String
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/notification-targets", body: ["name": name, "kind": kind, "url": url]) }
    }
}
