FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -c constraints.txt .
ENV GUICHET_NLU_CACHE=/app/var/nlu-cache
EXPOSE 8080
CMD ["guichet", "serve"]
