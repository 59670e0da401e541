# Riot in a container: the static binary `make build` leaves in
# bin/riot-server (CGO_ENABLED=0) on an empty base image. Nothing is pulled,
# there is no shell, and the image is the binary and nothing else.
#
#   make docker                                  # bin/riot-server, then riot-server:latest
#   docker run -d -p 127.0.0.1:6379:6379 -v riot1:/data riot-server
#   docker-compose -f deploy/docker-compose.yml up -d   # a 3-node cluster
#
# Every address binds 0.0.0.0 inside the container. Nodes that form a
# cluster need --advertise (an IP address or the container's host name,
# resolved at start); a lone node without it advertises what its host name
# resolves to. Flags given to `docker run` override the RIOT_* defaults below.
FROM scratch
COPY bin/riot-server /riot-server
ENV RIOT_DATA_DIR=/data \
    RIOT_ADDR=0.0.0.0:6379 \
    RIOT_RAFT_ADDR=0.0.0.0:16379 \
    RIOT_GOSSIP_ADDR=0.0.0.0:7946 \
    RIOT_HTTP_ADDR=0.0.0.0:8379
VOLUME ["/data"]
# RESP clients, raft, gossip (TCP and UDP), admin HTTP.
EXPOSE 6379 16379 7946 7946/udp 8379
# SIGTERM: stop accepting, finish in-flight commands, leave, close raft.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/riot-server"]
