# FastAPI's own first example of background tasks, verbatim: the first code
# block of https://fastapi.tiangolo.com/de/tutorial/background-tasks/ (the
# same in every language). bench/fastapi/serve.py serves it with uvicorn,
# from a temporary directory, so that log.txt is written there.
from fastapi import BackgroundTasks, FastAPI

app = FastAPI()


def write_notification(email: str, message=""):
    with open("log.txt", mode="w") as email_file:
        content = f"notification for {email}: {message}"
        email_file.write(content)


@app.post("/send-notification/{email}")
async def send_notification(email: str, background_tasks: BackgroundTasks):
    background_tasks.add_task(write_notification, email, message="some notification")
    return {"message": "Notification sent in the background"}
