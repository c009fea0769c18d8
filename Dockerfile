# ctop-py in a container, reading the host mounted at /host:
#
#   docker build -t ctop-py .
#   docker run --rm -it --pid=host --cap-add SYS_PTRACE \
#     -v /proc:/host/proc:ro -v /sys:/host/sys:ro \
#     -v /var/lib/docker:/host/var/lib/docker:ro \
#     -v /var/run/docker.sock:/host/var/run/docker.sock:ro \
#     ctop-py
#
# --pid=host makes /host/proc show the host's pids; SYS_PTRACE lets it read other processes'
# namespace links (without it, containers still show, with their limits and usage). The socket
# is optional: without it, Docker names come from /host/var/lib/docker.
FROM python:3.11-slim
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ctop_py ./ctop_py
RUN pip install --no-cache-dir . && rm -rf /src
ENTRYPOINT ["ctop-py", "--root", "/host"]
