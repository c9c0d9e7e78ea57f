"""Districts (county-level divisions) and the development parks in them."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db


class District(db.Model):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # 6-digit administrative division code (GB/T 2260), e.g. 320612 for 通州区.
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(50))

    parks: Mapped[list["Park"]] = relationship(back_populates="district", order_by="Park.id")

    def __str__(self) -> str:
        return self.name


class Park(db.Model):
    __tablename__ = "parks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    short_name: Mapped[str] = mapped_column(String(30))
    # "national" or "provincial" development park.
    level: Mapped[str] = mapped_column(String(20), default="provincial")
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))

    district: Mapped[District] = relationship(back_populates="parks")

    def __str__(self) -> str:
        return self.name
