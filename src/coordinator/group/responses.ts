// Builds the generated response objects from the coordinator's version-independent results, setting
// only the fields the request's version has (the others stay at their defaults).

import { JoinGroupResponse } from '../../protocol/generated/messages/JoinGroupResponse.js';
import { SyncGroupResponse } from '../../protocol/generated/messages/SyncGroupResponse.js';
import type { JoinResult, SyncResult } from './group.js';

export function toJoinGroupResponse(r: JoinResult, version: number): JoinGroupResponse {
  const resp = JoinGroupResponse.default();
  resp.errorCode = r.errorCode;
  resp.generationId = r.generationId;
  resp.memberId = r.memberId;
  resp.leader = r.leader;
  // Before v7 the protocol name is not nullable: Kafka sends "" for none.
  resp.protocolName = version >= 7 ? r.protocolName : (r.protocolName ?? '');
  if (version >= 7) resp.protocolType = r.protocolType;
  if (version >= 9) resp.skipAssignment = r.skipAssignment;
  resp.members = r.members.map((m) => ({
    memberId: m.memberId,
    groupInstanceId: version >= 5 ? m.groupInstanceId : null,
    metadata: m.metadata,
  }));
  return resp;
}

export function toSyncGroupResponse(r: SyncResult, version: number): SyncGroupResponse {
  const resp = SyncGroupResponse.default();
  resp.errorCode = r.errorCode;
  resp.assignment = r.assignment;
  if (version >= 5) {
    resp.protocolType = r.protocolType;
    resp.protocolName = r.protocolName;
  }
  return resp;
}
