// The Kafka APIs the client speaks: each pairs an API key with its request and response codecs.
// Modules are imported one by one (not generated/index.js, which loads all of them).

import { ApiKey } from '../protocol/generated/api-keys.js';
import { AddOffsetsToTxnRequest } from '../protocol/generated/messages/AddOffsetsToTxnRequest.js';
import { AddOffsetsToTxnResponse } from '../protocol/generated/messages/AddOffsetsToTxnResponse.js';
import { AddPartitionsToTxnRequest } from '../protocol/generated/messages/AddPartitionsToTxnRequest.js';
import { AddPartitionsToTxnResponse } from '../protocol/generated/messages/AddPartitionsToTxnResponse.js';
import { ApiVersionsRequest } from '../protocol/generated/messages/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../protocol/generated/messages/ApiVersionsResponse.js';
import { ConsumerGroupDescribeRequest } from '../protocol/generated/messages/ConsumerGroupDescribeRequest.js';
import { ConsumerGroupDescribeResponse } from '../protocol/generated/messages/ConsumerGroupDescribeResponse.js';
import { ConsumerGroupHeartbeatRequest } from '../protocol/generated/messages/ConsumerGroupHeartbeatRequest.js';
import { ConsumerGroupHeartbeatResponse } from '../protocol/generated/messages/ConsumerGroupHeartbeatResponse.js';
import { CreatePartitionsRequest } from '../protocol/generated/messages/CreatePartitionsRequest.js';
import { CreatePartitionsResponse } from '../protocol/generated/messages/CreatePartitionsResponse.js';
import { CreateTopicsRequest } from '../protocol/generated/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../protocol/generated/messages/CreateTopicsResponse.js';
import { DeleteGroupsRequest } from '../protocol/generated/messages/DeleteGroupsRequest.js';
import { DeleteGroupsResponse } from '../protocol/generated/messages/DeleteGroupsResponse.js';
import { DeleteRecordsRequest } from '../protocol/generated/messages/DeleteRecordsRequest.js';
import { DeleteRecordsResponse } from '../protocol/generated/messages/DeleteRecordsResponse.js';
import { DeleteTopicsRequest } from '../protocol/generated/messages/DeleteTopicsRequest.js';
import { DeleteTopicsResponse } from '../protocol/generated/messages/DeleteTopicsResponse.js';
import { DescribeClusterRequest } from '../protocol/generated/messages/DescribeClusterRequest.js';
import { DescribeClusterResponse } from '../protocol/generated/messages/DescribeClusterResponse.js';
import { DescribeConfigsRequest } from '../protocol/generated/messages/DescribeConfigsRequest.js';
import { DescribeConfigsResponse } from '../protocol/generated/messages/DescribeConfigsResponse.js';
import { DescribeGroupsRequest } from '../protocol/generated/messages/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../protocol/generated/messages/DescribeGroupsResponse.js';
import { DescribeLogDirsRequest } from '../protocol/generated/messages/DescribeLogDirsRequest.js';
import { DescribeLogDirsResponse } from '../protocol/generated/messages/DescribeLogDirsResponse.js';
import { EndTxnRequest } from '../protocol/generated/messages/EndTxnRequest.js';
import { EndTxnResponse } from '../protocol/generated/messages/EndTxnResponse.js';
import { FetchRequest } from '../protocol/generated/messages/FetchRequest.js';
import { FetchResponse } from '../protocol/generated/messages/FetchResponse.js';
import { FindCoordinatorRequest } from '../protocol/generated/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../protocol/generated/messages/FindCoordinatorResponse.js';
import { HeartbeatRequest } from '../protocol/generated/messages/HeartbeatRequest.js';
import { HeartbeatResponse } from '../protocol/generated/messages/HeartbeatResponse.js';
import { IncrementalAlterConfigsRequest } from '../protocol/generated/messages/IncrementalAlterConfigsRequest.js';
import { IncrementalAlterConfigsResponse } from '../protocol/generated/messages/IncrementalAlterConfigsResponse.js';
import { InitProducerIdRequest } from '../protocol/generated/messages/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../protocol/generated/messages/InitProducerIdResponse.js';
import { JoinGroupRequest } from '../protocol/generated/messages/JoinGroupRequest.js';
import { JoinGroupResponse } from '../protocol/generated/messages/JoinGroupResponse.js';
import { LeaveGroupRequest } from '../protocol/generated/messages/LeaveGroupRequest.js';
import { LeaveGroupResponse } from '../protocol/generated/messages/LeaveGroupResponse.js';
import { ListGroupsRequest } from '../protocol/generated/messages/ListGroupsRequest.js';
import { ListGroupsResponse } from '../protocol/generated/messages/ListGroupsResponse.js';
import { ListOffsetsRequest } from '../protocol/generated/messages/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../protocol/generated/messages/ListOffsetsResponse.js';
import { MetadataRequest } from '../protocol/generated/messages/MetadataRequest.js';
import { MetadataResponse } from '../protocol/generated/messages/MetadataResponse.js';
import { OffsetCommitRequest } from '../protocol/generated/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../protocol/generated/messages/OffsetCommitResponse.js';
import { OffsetDeleteRequest } from '../protocol/generated/messages/OffsetDeleteRequest.js';
import { OffsetDeleteResponse } from '../protocol/generated/messages/OffsetDeleteResponse.js';
import { OffsetFetchRequest } from '../protocol/generated/messages/OffsetFetchRequest.js';
import { OffsetFetchResponse } from '../protocol/generated/messages/OffsetFetchResponse.js';
import { ProduceRequest } from '../protocol/generated/messages/ProduceRequest.js';
import { ProduceResponse } from '../protocol/generated/messages/ProduceResponse.js';
import { SyncGroupRequest } from '../protocol/generated/messages/SyncGroupRequest.js';
import { SyncGroupResponse } from '../protocol/generated/messages/SyncGroupResponse.js';
import { TxnOffsetCommitRequest } from '../protocol/generated/messages/TxnOffsetCommitRequest.js';
import { TxnOffsetCommitResponse } from '../protocol/generated/messages/TxnOffsetCommitResponse.js';
import type { MessageCodec } from '../protocol/message.js';

export interface Api<Req, Resp> {
  readonly apiKey: number;
  readonly name: string;
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Resp>;
}

function api<Req, Resp>(
  apiKey: number,
  request: MessageCodec<Req>,
  response: MessageCodec<Resp>,
): Api<Req, Resp> {
  return { apiKey, name: request.name.replace(/Request$/, ''), request, response };
}

export const ProduceApi: Api<ProduceRequest, ProduceResponse> = api(
  ApiKey.Produce,
  ProduceRequest,
  ProduceResponse,
);
export const FetchApi: Api<FetchRequest, FetchResponse> = api(ApiKey.Fetch, FetchRequest, FetchResponse);
export const ListOffsetsApi: Api<ListOffsetsRequest, ListOffsetsResponse> = api(
  ApiKey.ListOffsets,
  ListOffsetsRequest,
  ListOffsetsResponse,
);
export const MetadataApi: Api<MetadataRequest, MetadataResponse> = api(
  ApiKey.Metadata,
  MetadataRequest,
  MetadataResponse,
);
export const OffsetCommitApi: Api<OffsetCommitRequest, OffsetCommitResponse> = api(
  ApiKey.OffsetCommit,
  OffsetCommitRequest,
  OffsetCommitResponse,
);
export const OffsetFetchApi: Api<OffsetFetchRequest, OffsetFetchResponse> = api(
  ApiKey.OffsetFetch,
  OffsetFetchRequest,
  OffsetFetchResponse,
);
export const FindCoordinatorApi: Api<FindCoordinatorRequest, FindCoordinatorResponse> = api(
  ApiKey.FindCoordinator,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
);
export const JoinGroupApi: Api<JoinGroupRequest, JoinGroupResponse> = api(
  ApiKey.JoinGroup,
  JoinGroupRequest,
  JoinGroupResponse,
);
export const HeartbeatApi: Api<HeartbeatRequest, HeartbeatResponse> = api(
  ApiKey.Heartbeat,
  HeartbeatRequest,
  HeartbeatResponse,
);
export const LeaveGroupApi: Api<LeaveGroupRequest, LeaveGroupResponse> = api(
  ApiKey.LeaveGroup,
  LeaveGroupRequest,
  LeaveGroupResponse,
);
export const SyncGroupApi: Api<SyncGroupRequest, SyncGroupResponse> = api(
  ApiKey.SyncGroup,
  SyncGroupRequest,
  SyncGroupResponse,
);
export const DescribeGroupsApi: Api<DescribeGroupsRequest, DescribeGroupsResponse> = api(
  ApiKey.DescribeGroups,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
);
export const ListGroupsApi: Api<ListGroupsRequest, ListGroupsResponse> = api(
  ApiKey.ListGroups,
  ListGroupsRequest,
  ListGroupsResponse,
);
export const ApiVersionsApi: Api<ApiVersionsRequest, ApiVersionsResponse> = api(
  ApiKey.ApiVersions,
  ApiVersionsRequest,
  ApiVersionsResponse,
);
export const CreateTopicsApi: Api<CreateTopicsRequest, CreateTopicsResponse> = api(
  ApiKey.CreateTopics,
  CreateTopicsRequest,
  CreateTopicsResponse,
);
export const DeleteTopicsApi: Api<DeleteTopicsRequest, DeleteTopicsResponse> = api(
  ApiKey.DeleteTopics,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
);
export const DeleteRecordsApi: Api<DeleteRecordsRequest, DeleteRecordsResponse> = api(
  ApiKey.DeleteRecords,
  DeleteRecordsRequest,
  DeleteRecordsResponse,
);
export const InitProducerIdApi: Api<InitProducerIdRequest, InitProducerIdResponse> = api(
  ApiKey.InitProducerId,
  InitProducerIdRequest,
  InitProducerIdResponse,
);
export const DescribeConfigsApi: Api<DescribeConfigsRequest, DescribeConfigsResponse> = api(
  ApiKey.DescribeConfigs,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
);
export const DescribeLogDirsApi: Api<DescribeLogDirsRequest, DescribeLogDirsResponse> = api(
  ApiKey.DescribeLogDirs,
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
);
export const CreatePartitionsApi: Api<CreatePartitionsRequest, CreatePartitionsResponse> = api(
  ApiKey.CreatePartitions,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
);
export const DeleteGroupsApi: Api<DeleteGroupsRequest, DeleteGroupsResponse> = api(
  ApiKey.DeleteGroups,
  DeleteGroupsRequest,
  DeleteGroupsResponse,
);
export const IncrementalAlterConfigsApi: Api<
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse
> = api(ApiKey.IncrementalAlterConfigs, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse);
export const OffsetDeleteApi: Api<OffsetDeleteRequest, OffsetDeleteResponse> = api(
  ApiKey.OffsetDelete,
  OffsetDeleteRequest,
  OffsetDeleteResponse,
);
export const DescribeClusterApi: Api<DescribeClusterRequest, DescribeClusterResponse> = api(
  ApiKey.DescribeCluster,
  DescribeClusterRequest,
  DescribeClusterResponse,
);

export const ConsumerGroupHeartbeatApi: Api<ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse> =
  api(ApiKey.ConsumerGroupHeartbeat, ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse);
export const ConsumerGroupDescribeApi: Api<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse> = api(
  ApiKey.ConsumerGroupDescribe,
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
);

export type {
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  DeleteRecordsRequest,
  DeleteRecordsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeClusterRequest,
  DescribeClusterResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
  FetchRequest,
  FetchResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  MetadataRequest,
  MetadataResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetDeleteRequest,
  OffsetDeleteResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  ProduceRequest,
  ProduceResponse,
  SyncGroupRequest,
  SyncGroupResponse,
};

export const AddPartitionsToTxnApi: Api<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse> = api(
  ApiKey.AddPartitionsToTxn,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
);
export const AddOffsetsToTxnApi: Api<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse> = api(
  ApiKey.AddOffsetsToTxn,
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
);
export const EndTxnApi: Api<EndTxnRequest, EndTxnResponse> = api(
  ApiKey.EndTxn,
  EndTxnRequest,
  EndTxnResponse,
);
export const TxnOffsetCommitApi: Api<TxnOffsetCommitRequest, TxnOffsetCommitResponse> = api(
  ApiKey.TxnOffsetCommit,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
);
