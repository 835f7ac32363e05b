# dockvet-test rules=DV1026
# A web application that is not PHP-FPM, etcd or Vault exposes their ports.
FROM node:22-slim
# want DV1026 "EXPOSE publishes port 2379 \\(etcd\\), 8200 \\(Vault API\\), 9000"
EXPOSE 3000 2379 8200 9000
CMD ["node", "server.js"]
