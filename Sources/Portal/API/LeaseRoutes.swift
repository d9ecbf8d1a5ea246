import Foundation
import HTTPTypes
import IAM
import Storage

/// Which replica leads each singleton loop (PostgreSQL store; empty on SQLite, where one controller runs them all).
enum LeaseRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        [
            RouteSpec(.get, "/api/v1/leases", "leases.list",
                      summary: "The singleton loops' leases and each replica's presence lease (`replica:<holder>`): holder (replica), epoch (fencing token), when acquired and until when held, by the store's clock.",
                      tag: "cluster", access: .authenticated(.platformManage, .platform), response: "LeaseList") { _ in
                let leases = try await services.database.read { try LeaderLease.all(on: $0) }
                return try JSONBody.response(LeaseList(items: leases.map(Lease.init)))
            },
        ]
    }

    struct LeaseList: Encodable {
        var items: [Lease]
    }

    struct Lease: Encodable {
        var name: String
        var holder: String
        var epoch: Int64
        var acquiredAt: Int64
        var expiresAt: Int64

        init(_ state: LeaderLease.State) {
            name = state.name
            holder = state.holder
            epoch = state.epoch
            acquiredAt = state.acquiredAt
            expiresAt = state.expiresAt
        }
    }
}
